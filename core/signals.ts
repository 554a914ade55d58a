/**
 * SIGTERM, SIGINT and SIGHUP for a serving process, caught before start-up begins.
 *
 * Node's default for all three is to exit at once. The gateway answers `/health` as soon as
 * its listener binds, while start-up still has the config watcher to start; a SIGTERM there
 * (a rollout, a test harness) killed it with no drain and no audit flush, and a SIGHUP sent
 * to reload killed it too. So the signals are caught from the start and held: a stop or a
 * reload that comes during start-up is carried out once the process can carry it out. A
 * second stop signal during start-up exits at once, so a start that hangs can still be
 * interrupted.
 */
import { constants } from 'node:os';
import type { Logger } from './logger.js';

export type StopSignal = 'SIGTERM' | 'SIGINT';

/** What a started process does on a signal. `stop` is called once per signal received. */
export interface SignalActions {
  stop(signal: StopSignal): void;
  reload(signal: 'SIGHUP'): void;
}

export interface HeldSignals {
  /** From now on signals go to `actions`; a stop or reload held during start-up is delivered now. */
  handle(actions: SignalActions): void;
}

export function holdSignals(log: Logger): HeldSignals {
  let actions: SignalActions | undefined;
  let heldStop: StopSignal | undefined;
  let heldReload = false;
  const onStop = (signal: StopSignal): void => {
    if (actions) return actions.stop(signal);
    if (heldStop) {
      log.warn('second stop signal during start-up; exiting without a drain', { signal });
      process.exit(128 + constants.signals[signal]);
    }
    heldStop = signal;
    log.info('stop signal during start-up; stopping once started', { signal });
  };
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => {
    if (actions) return actions.reload('SIGHUP');
    heldReload = true;
  });
  return {
    handle(next) {
      actions = next;
      // A stop makes a held reload moot.
      if (heldStop) next.stop(heldStop);
      else if (heldReload) next.reload('SIGHUP');
    },
  };
}
