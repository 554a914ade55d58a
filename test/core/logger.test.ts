/** The operational log: error fields (name, code, message, the frame that made it, causes) and secrets blanked. */
import t from 'tap';
import { createLogger, redacted, redactInLogs } from '../../core/logger.js';

function logged(err: unknown): Record<string, unknown> {
  let line = '';
  createLogger({ sink: (l) => (line = l) }).error('failed', { err });
  return (JSON.parse(line) as { err: Record<string, unknown> }).err;
}

function parseBroken(): unknown {
  return JSON.parse('{');
}

t.test('an error with a cause from a builtin', async (t) => {
  let inner: unknown;
  try {
    parseBroken();
  } catch (err) {
    inner = err;
  }
  const outer = Object.assign(new Error('outer', { cause: inner }), { code: 'E_OUTER' });
  const err = logged(outer);
  t.equal(err.name, 'Error');
  t.equal(err.code, 'E_OUTER');
  t.match(err.at, /logger\.test\.ts:\d+:\d+\)?$/);
  const cause = err.cause as Record<string, unknown>;
  t.equal(cause.name, 'SyntaxError');
  t.match(cause.at, /^parseBroken \(.*logger\.test\.ts:\d+:\d+\)$/, "JSON.parse's own frame is passed over");
  t.notOk('stack' in err, 'no whole stack');
});

t.test('a cause that loops ends three causes down', async (t) => {
  const loop = new Error('loop');
  (loop as { cause?: unknown }).cause = loop;
  let depth = 0;
  for (let e: Record<string, unknown> | undefined = logged(loop); e; e = e.cause as Record<string, unknown> | undefined) depth++;
  t.equal(depth, 4);
});

t.test('a cause that is not an error, and an error without a stack', async (t) => {
  const err = logged(Object.assign(new Error('plain', { cause: { token: 'secret' } }), { stack: undefined }));
  t.same(err, { name: 'Error', message: 'plain' });
});

t.test('a registered secret is blanked in every string of a line, not only in errors', async (t) => {
  redactInLogs(['sk-logger-test-000000']);
  let line = '';
  createLogger({ sink: (l) => (line = l) }).error('failed with sk-logger-test-000000', {
    issues: [{ file: 'x.yaml', path: 'providers.a', message: 'api_key sk-logger-test-000000 is not valid' }],
    err: new Error('bad key sk-logger-test-000000', { cause: new Error('sk-logger-test-000000') }),
  });
  t.notMatch(line, 'sk-logger-test-000000');
  const parsed = JSON.parse(line) as { msg: string; issues: Array<{ message: string }>; err: { message: string; cause: { message: string } } };
  t.equal(parsed.msg, 'failed with ***');
  t.equal(parsed.issues[0].message, 'api_key *** is not valid');
  t.equal(parsed.err.message, 'bad key ***');
  t.equal(parsed.err.cause.message, '***');
  t.equal(redacted('a sk-logger-test-000000 b'), 'a *** b', 'for stderr written without the log');
});
