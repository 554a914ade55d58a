/**
 * core/json-density.ts: a large body's objects and arrays are counted outside strings and
 * its depth measured, exactly at the limits; the request context refuses such a body from
 * every whole-body reader, with one count per body.
 */
import t from 'tap';
import { BYTES_PER_CONTAINER, DENSITY_CHECK_MIN, MAX_CONTAINERS, MAX_DEPTH, MIN_ALLOWANCE, tooComplexJson } from '../../core/json-density.js';
import { contextWithBody } from '../helpers/context.js';

const MiB = 1024 * 1024;

/** `[` then `containers - 1` empty arrays, then a string padding the body to `size` bytes. */
function arrays(containers: number, size: number): Buffer {
  const head = `[${'[],'.repeat(containers - 1)}"`;
  return Buffer.from(`${head}${'x'.repeat(size - head.length - 2)}"]`);
}

/** `depth` nested arrays beside a string padding the body to `size` bytes. */
function nested(depth: number, size: number): Buffer {
  const head = `[${'['.repeat(depth - 1)}${']'.repeat(depth - 1)},"`;
  return Buffer.from(`${head}${'x'.repeat(size - head.length - 2)}"]`);
}

const allowed = (size: number): number => Math.min(MAX_CONTAINERS, Math.max(MIN_ALLOWANCE, Math.floor(size / BYTES_PER_CONTAINER)));

t.test('containers: up to one per 16 bytes (at least 65,536, at most 1,000,000) pass, one more is refused', async (t) => {
  for (const size of [DENSITY_CHECK_MIN, 2 * MiB, 20 * MiB]) {
    const limit = allowed(size);
    t.equal(tooComplexJson(arrays(limit, size)), undefined, `${limit} in ${size} bytes`);
    const refusal = tooComplexJson(arrays(limit + 1, size));
    t.equal(refusal?.code, 'GW_ERR_REQUEST_JSON_TOO_COMPLEX', `${limit + 1} in ${size} bytes`);
    t.equal(refusal?.status, 400);
  }
  t.equal(tooComplexJson(arrays(80_000, DENSITY_CHECK_MIN - 1)), undefined, 'a body below the size counted is left to JSON.parse');
});

t.test('depth: 1000 passes, 1001 is refused', async (t) => {
  t.equal(tooComplexJson(nested(MAX_DEPTH, DENSITY_CHECK_MIN)), undefined);
  t.match(tooComplexJson(nested(MAX_DEPTH + 1, DENSITY_CHECK_MIN))?.message, /more than 1000 deep/);
});

t.test('brackets inside strings are not containers; escaped quotes do not end a string, escaped backslashes do', async (t) => {
  const brackets = '[{'.repeat(50_000);
  for (const [name, text] of [
    ['a short string with an escaped quote', '\\"[{\\\\['],
    ['a long string with escaped quotes', `${brackets}\\"${brackets}\\\\\\"${brackets}`],
    ['a long string with a backslash run before an escaped quote', `${'\\\\'.repeat(40)}\\"${brackets}`],
  ] as const) {
    const inString = Buffer.from(`{"a":"${text}","b":"${brackets}","c":["${'x'.repeat(40)}\\\\","[[[["]}`);
    t.equal(tooComplexJson(Buffer.concat([inString, Buffer.from(' '.repeat(DENSITY_CHECK_MIN))])), undefined, name);
  }
  // A string whose last bytes are an escaped backslash ends at its quote: what follows is counted.
  for (const ending of ['\\\\', `${'y'.repeat(100)}\\\\\\\\`]) {
    const after = Buffer.from(`["${ending}",${'[],'.repeat(MIN_ALLOWANCE)}1]`);
    t.equal(tooComplexJson(Buffer.concat([after, Buffer.from(' '.repeat(DENSITY_CHECK_MIN))]))?.code, 'GW_ERR_REQUEST_JSON_TOO_COMPLEX', `after "${ending.slice(-8)}"`);
  }
});

t.test('the request context refuses such a body from json(), jsonShape() and jsonPick(), and takes a replaced one', async (t) => {
  // Past the tape's size (4 MiB), so jsonPick reads through the whole shape too.
  const size = 5 * MiB;
  const dense = arrays(allowed(size) + 1, size);
  const ctx = contextWithBody(dense);
  for (const read of [() => ctx.json(), () => ctx.jsonShape(), () => ctx.jsonPick({ members: { model: {} } })]) {
    t.throws(read, { name: 'GatewayError', code: 'GW_ERR_REQUEST_JSON_TOO_COMPLEX', status: 400 });
  }
  ctx.replaceBody(arrays(allowed(size), size));
  t.equal((ctx.json() as unknown[]).length, allowed(size), 'a new body is counted anew');
  const large = contextWithBody(Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(8 * MiB) }] })));
  t.equal((large.jsonPick({ members: { model: { text: true } } }) as { model: string }).model, 'm', 'a large prompt reads as before');
});
