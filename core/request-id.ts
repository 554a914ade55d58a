/**
 * Fresh request ids: random version-4 UUIDs, as `crypto.randomUUID()` makes them, but
 * returned as one flat string. `randomUUID` joins twenty pieces into a rope that V8 must
 * flatten at the id's first use — Node's check of the `x-request-id` response header goes
 * into the runtime for it — on every request.
 */
import { randomFillSync } from 'node:crypto';

/** Ids drawn per `randomFillSync` call (randomUUID batches 128 as well). */
const BATCH = 128;
const random = Buffer.allocUnsafe(16 * BATCH);
let used = BATCH;
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * @example
 * newRequestId() // 'e6ff91bf-a406-4fd5-b206-60cc9abfce37'
 */
export function newRequestId(): string {
  const from = nextRandom();
  let at = 0;
  for (let i = 0; i < 16; i++) {
    let byte = random[from + i];
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10
    text[at++] = HEX[byte >> 4];
    text[at++] = HEX[byte & 15];
    if (i === 3 || i === 5 || i === 7 || i === 9) text[at++] = 0x2d; // -
  }
  return text.toString('latin1', 0, 36);
}

/**
 * 128 random bits as 32 hex digits, one flat string: what `randomUUID().replace(/-/g, '')`
 * gives for a completion id, without its regular expression and rope.
 * @example
 * newHexId() // '9f1c0e5ab2d34c7e8a61f0b3c4d5e6f7'
 */
export function newHexId(): string {
  const from = nextRandom();
  return random.toString('hex', from, from + 16);
}

/** Where the next unused 16 random bytes start in `random`. */
function nextRandom(): number {
  if (used === BATCH) {
    randomFillSync(random);
    used = 0;
  }
  return 16 * used++;
}
