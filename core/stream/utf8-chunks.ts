/**
 * UTF-8 text of a byte stream, chunk by chunk: a character split between two chunks is
 * held back until its last byte arrives. What `new TextDecoder().decode(chunk, { stream:
 * true })` gives — invalid bytes become U+FFFD, a leading byte-order mark is dropped —
 * without an ICU converter per stream (~800 B of native memory each) and at about half
 * the cost per chunk.
 */
export class Utf8Chunks {
  /** The bytes of a character the last chunk ended inside of. */
  private tail: Buffer | undefined = undefined;
  private started = false;

  /** The text of `chunk`, less a character it ends inside of (given with the next chunk). */
  decode(chunk: Uint8Array): string {
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.tail) {
      bytes = Buffer.concat([this.tail, bytes]);
      this.tail = undefined;
    }
    const whole = completeLength(bytes);
    // A copy: the caller's buffer may be reused once we return.
    if (whole < bytes.length) this.tail = Buffer.from(bytes.subarray(whole));
    return this.text(bytes.toString('utf8', 0, whole));
  }

  /** The end of the stream: a character cut short becomes U+FFFD. */
  end(): string {
    const tail = this.tail;
    this.tail = undefined;
    return tail ? this.text(tail.toString('utf8')) : '';
  }

  private text(s: string): string {
    if (this.started || s === '') return s;
    this.started = true;
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }
}

/**
 * How many leading bytes of `b` end on a character boundary: all of them, unless the last
 * up-to-three bytes begin a multi-byte sequence that needs more. Invalid bytes count as
 * whole (they decode to U+FFFD either way).
 */
function completeLength(b: Uint8Array): number {
  const n = b.length;
  let lead = n - 1;
  while (lead >= 0 && lead > n - 4 && (b[lead] & 0xc0) === 0x80) lead--;
  if (lead < 0) return n;
  const c = b[lead];
  const need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
  return n - lead < need ? lead : n;
}
