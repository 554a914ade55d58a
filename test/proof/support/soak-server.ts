/**
 * The gateway under soak, as its own process started with --expose-gc, so its heap and
 * file descriptors are measured apart from the load generator's. Talks over IPC:
 * `ready` (with its URL) once listening; `measure` → a full GC, then `process.memoryUsage()`;
 * `close` → graceful shutdown and exit. Warnings and errors go to stderr as JSON lines.
 */
import { builtinCatalog } from '../../../bin/catalog.js';
import { Gateway } from '../../../core/index.js';
import { createLogger } from '../../../core/logger.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error('run with --expose-gc as a forked child');
const send = process.send.bind(process);

const gateway = await Gateway.start({ configPath: process.argv[2], catalog: builtinCatalog, env: {}, log: createLogger({ level: 'warn' }), port: 0, host: '127.0.0.1' });
send({ type: 'ready', url: gateway.url });

process.on('message', (m: { type: string }) => {
  if (m.type === 'measure') {
    // Two passes with a turn between: the first frees what finalizers release for the second.
    gc();
    setImmediate(() => {
      gc();
      send({ type: 'measured', memory: process.memoryUsage() });
    });
  } else if (m.type === 'close') {
    void gateway.close().then(() => process.exit(0));
  }
});
