/**
 * `ctx.json()` reads ASCII bodies on a fast path and everything else with a strict UTF-8
 * decode: the parsed value must not depend on which path ran, and invalid bytes or a BOM
 * are refused as before.
 */
import t from 'tap';
import { GatewayError } from '../../core/errors.js';
import { contextWithBody } from '../helpers/context.js';

function parse(body: Buffer): unknown {
  return contextWithBody(body).json();
}

t.test('ASCII and multi-byte bodies parse to the same values as JSON.parse of their UTF-8 text', async (t) => {
  for (const value of [{ a: 'plain ascii', n: [1, 2.5, -3], t: true }, { text: 'héllo wörld ✓ 😀', escaped: '\u00e9' }, 'x'.repeat(100_000), { k: '\u007f\u0000' }]) {
    const body = Buffer.from(JSON.stringify(value));
    t.same(parse(body), JSON.parse(body.toString('utf8')));
  }
});

t.test('invalid UTF-8 and a byte-order mark are refused with a 400', async (t) => {
  for (const [name, body] of [
    ['a lone continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d])],
    ['a truncated sequence', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')])],
    ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])],
  ] as const) {
    const err = (() => {
      try {
        parse(body);
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof GatewayError, name);
    t.equal((err as GatewayError).code, 'GW_ERR_REQUEST_MALFORMED_JSON', name);
  }
});

t.test('once released (a stream began), json() parses the same bytes again', async (t) => {
  const ctx = contextWithBody(Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}]}'));
  const first = ctx.json();
  t.equal(ctx.json(), first, 'kept while the request is handled');
  ctx.releaseParsed();
  const again = ctx.json();
  t.not(again, first, 'not the released object');
  t.same(again, first, 'the same value');
});
