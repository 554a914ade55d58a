/** V8's `gc()` in a test process started without `--expose-gc` (the flag set at run time, the function read from a fresh context). */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
