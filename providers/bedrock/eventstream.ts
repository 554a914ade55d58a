/**
 * Reading `application/vnd.amazon.eventstream` beside a byte flow: frames are cut by
 * their 4-byte total-length prelude and decoded (CRCs checked) by AWS's maintained codec
 * from `@smithy/core`. Only the partial frame at a chunk's end is kept; the bytes
 * themselves are never held or altered, and a malformed stream just stops being read.
 */
import { newEventStreamCodec } from './smithy.js';

/** One decoded frame: its string headers and its payload. */
export interface EventFrame {
  /** `event`, `exception` or `error` (`:message-type`). */
  readonly messageType: string;
  /** `:event-type` of an event, `:exception-type` of an exception, `:error-code` of an error. */
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** The largest frame the format allows (16 MiB of payload plus headers and prelude). */
const MAX_FRAME = 16 * 1024 * 1024 + 128 * 1024 + 16;
const MIN_FRAME = 16;

export class EventStreamReader {
  private readonly codec = newEventStreamCodec();
  /** The start of a frame no chunk so far completed, in pieces (copies: they must not pin the caller's chunks). */
  private rest: Buffer[] = [];
  private restBytes = 0;
  /** Set when the bytes stopped being a valid event stream; nothing more is read. */
  broken: string | undefined;

  constructor(private readonly onFrame: (frame: EventFrame) => void) {}

  push(chunk: Uint8Array): void {
    if (this.broken) return;
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.restBytes > 0) {
      const held = this.restBytes + buf.length;
      // A frame longer than a chunk is gathered until whole and joined once: joining the
      // start with every chunk copied a 16 MiB frame ~250 times over (seconds of CPU).
      if (this.restBytes >= 4 && held < this.awaited()) {
        this.rest.push(Buffer.from(buf));
        this.restBytes = held;
        return;
      }
      this.rest.push(buf);
      buf = Buffer.concat(this.rest, held);
      this.rest = [];
      this.restBytes = 0;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const total = buf.readUInt32BE(off);
      if (total < MIN_FRAME || total > MAX_FRAME) return this.fail(`frame length ${total} is out of range`);
      if (buf.length - off < total) break;
      let frame: EventFrame;
      try {
        frame = toFrame(this.codec.decode(buf.subarray(off, off + total)));
      } catch (err) {
        return this.fail((err as Error).message);
      }
      off += total;
      this.onFrame(frame);
    }
    if (off < buf.length) {
      this.rest = [Buffer.from(buf.subarray(off))];
      this.restBytes = buf.length - off;
    }
  }

  /** True when the stream ended in the middle of a frame. */
  get truncated(): boolean {
    return this.restBytes > 0;
  }

  /** The length of the frame the held bytes (4 or more) begin; 0 if out of range, so they are read, and fail. */
  private awaited(): number {
    const head = this.rest[0].length >= 4 ? this.rest[0] : Buffer.concat(this.rest, this.restBytes);
    const total = head.readUInt32BE(0);
    return total < MIN_FRAME || total > MAX_FRAME ? 0 : total;
  }

  private fail(reason: string): void {
    this.broken = reason;
    this.rest = [];
    this.restBytes = 0;
  }
}

function toFrame(message: { headers: Record<string, { type: string; value: unknown }>; body: Uint8Array }): EventFrame {
  const headers: Record<string, string> = {};
  for (const [name, h] of Object.entries(message.headers)) if (h.type === 'string') headers[name] = h.value as string;
  const messageType = headers[':message-type'] ?? 'event';
  const type = messageType === 'event' ? headers[':event-type'] : messageType === 'exception' ? headers[':exception-type'] : headers[':error-code'];
  return { messageType, type: type ?? '', headers, body: message.body };
}

/** The frame's payload parsed as JSON, or undefined when it is not JSON. */
export function frameJson(frame: EventFrame): unknown {
  try {
    return JSON.parse(Buffer.from(frame.body.buffer, frame.body.byteOffset, frame.body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}
