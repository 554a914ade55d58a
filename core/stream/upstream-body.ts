/**
 * An upstream response body fed straight by undici's dispatcher: chunks go from the HTTP
 * parser to whoever reads them, with no Node Readable, no AsyncResource and no event turn
 * in between. Core's handler attaches a {@link BodySink} (pushed to, pauses by returning
 * false); everything else reads it as the `AsyncIterable` the provider contract promises.
 * Chunks that arrive before anyone reads are held (undici is paused past a bound).
 * `destroy()` frees the pooled connection of a body nobody will finish.
 */

/** Held bytes past which undici stops reading the socket until the reader catches up. */
const HIGH_WATER = 64 * 1024;

/** What the body needs from the upstream request that feeds it. */
export interface BodySource {
  /** Continue reading after a chunk was refused. */
  resume(): void;
  /** Give up the request (its connection is closed). */
  abort(reason: Error): void;
}

/** A reader that is pushed to. */
export interface BodySink {
  /** One chunk; false: pause until the sink calls {@link UpstreamBody.resume}. */
  data(chunk: Uint8Array): boolean;
  end(): void;
  error(err: Error): void;
}

type State = 'open' | 'ended' | 'failed';

export class UpstreamBody implements AsyncIterable<Uint8Array> {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private state: State = 'open';
  private failure: Error | undefined = undefined;
  /** undici was told to stop (a refused chunk) and waits for its resume. */
  private paused = false;
  /** The sink refused a chunk and has not asked for more yet. */
  private sinkWaiting = false;
  private sink: BodySink | undefined = undefined;
  private iterated = false;
  private wake: (() => void) | undefined = undefined;
  destroyed = false;

  constructor(private readonly source: BodySource) {}

  // ── fed by the dispatch handler ──

  /** A chunk from upstream; false asks undici to pause. */
  offer(chunk: Uint8Array): boolean {
    if (this.destroyed || this.state !== 'open') return true;
    const sink = this.sink;
    if (sink && this.held.length === 0 && !this.sinkWaiting) {
      if (sink.data(chunk)) return true;
      this.sinkWaiting = true;
      this.paused = true;
      return false;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    this.notify();
    if (this.heldBytes < HIGH_WATER && !this.sinkWaiting) return true;
    this.paused = true;
    return false;
  }

  /** The upstream body ended whole. */
  finish(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    if (this.sink && this.held.length === 0 && !this.sinkWaiting) this.sink.end();
    this.notify();
  }

  /** The upstream body failed (socket error, timeout, cancellation); held chunks are dropped. */
  fail(err: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = err;
    this.held = [];
    this.heldBytes = 0;
    this.sink?.error(err);
    this.notify();
  }

  // ── read by a consumer ──

  /** Push every chunk (held ones first) to `sink`; only one reader per body. */
  attach(sink: BodySink): void {
    if (this.sink || this.iterated) throw new Error('upstream body already has a reader');
    this.sink = sink;
    if (this.state === 'failed') return sink.error(this.failure!);
    this.drainHeld();
  }

  /** The sink can take more after refusing a chunk. */
  resume(): void {
    if (!this.sinkWaiting) return;
    this.sinkWaiting = false;
    this.drainHeld();
  }

  /** Stop reading: drop held chunks and close the upstream request if it is still running. */
  destroy(reason?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.held = [];
    this.heldBytes = 0;
    if (this.state === 'open') {
      this.state = 'failed';
      this.failure = reason ?? new Error('upstream body destroyed');
      this.source.abort(this.failure);
    }
    this.notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.sink || this.iterated) throw new Error('upstream body already has a reader');
    this.iterated = true;
    return {
      next: () => this.next(),
      return: () => {
        if (this.state === 'open') this.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const held = this.held;
      if (held.length > 0) {
        // Everything that came while the reader was busy, as one chunk (as Readable.read()
        // gives it): a translating reader then writes once, not once per socket read.
        const chunk = held.length === 1 ? held[0] : Buffer.concat(held, this.heldBytes);
        this.held = [];
        this.heldBytes = 0;
        if (this.paused) this.unpause();
        return { value: chunk, done: false };
      }
      if (this.destroyed || this.state === 'ended') return { value: undefined, done: true };
      if (this.state === 'failed') throw this.failure;
      if (this.paused) this.unpause();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private drainHeld(): void {
    const sink = this.sink!;
    while (this.held.length > 0) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      if (!sink.data(chunk)) {
        this.sinkWaiting = true;
        return;
      }
      if (this.state === 'failed') return; // the sink's write failed the body
    }
    if (this.state === 'ended') sink.end();
    else if (this.paused) this.unpause();
  }

  private unpause(): void {
    this.paused = false;
    if (this.state === 'open') this.source.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
