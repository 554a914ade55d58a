/**
 * A pass-through `alt=sse` stream that is never cut silently. Gemini ends every complete
 * answer with a chunk carrying a `finishReason`; a stream that stops without one makes
 * `@google/genai` treat a partial answer as whole (or retry blind). So events are
 * forwarded whole, byte for byte, as soon as their blank line arrives (at most one partial
 * event is held), and when the upstream fails or ends early the body throws: core then
 * appends the dialect's error event, which the SDK raises, after the last whole event.
 * Also the stream's usage meter, since it reads every event.
 */
import { GatewayError, SourceMeter, type UsageMeter } from '../../core/index.js';
import { GeminiSseMeter } from './usage.js';

const LF = 0x0a;
const CR = 0x0d;

/** End of the last blank line (event boundary) in `buf` at or after `from`, or -1. */
function lastBoundary(buf: Buffer, from: number): number {
  let end = -1;
  for (let i = Math.max(1, from); i < buf.length; i++) {
    const b = buf[i];
    const p = buf[i - 1];
    if ((b === LF && p === LF) || (b === CR && p === CR)) end = i + 1;
    else if (b === LF && p === CR && i >= 3 && buf[i - 2] === LF && buf[i - 3] === CR) end = i + 1;
  }
  return end;
}

export class GeminiStreamGuard {
  private readonly meter = new GeminiSseMeter();
  private pending: Buffer = Buffer.alloc(0);

  /** The upstream body, forwarded in whole events; throws when it does not end with a finishReason. */
  async *pipe(upstream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of upstream) {
      const buf = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
      // A boundary may straddle the previous chunk's last three bytes.
      const end = lastBoundary(buf, this.pending.length - 3);
      if (end < 0) {
        this.pending = buf;
        continue;
      }
      const whole = buf.subarray(0, end);
      this.pending = Buffer.from(buf.subarray(end));
      this.meter.write(whole);
      yield whole;
    }
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    this.meter.write(rest);
    this.meter.end();
    const reader = this.meter.reader;
    if (reader.finished || reader.streamError) {
      if (rest.length > 0) yield rest;
      return;
    }
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', 'Upstream stream ended before the answer was complete (no finishReason)');
  }

  /** A meter over what the guard read; core's writes of the same bytes are ignored. */
  usageMeter(): UsageMeter {
    return new SourceMeter(this.meter);
  }
}
