/**
 * Shapes for a provider's streamed answer that V8 keeps on its fast paths. Each one replaces
 * a form that cost a stream several microseconds before its first byte (`perf`, unified
 * streams: ~9 µs of V8 runtime calls per stream):
 * - `Object.assign(generator(), { destroy })` adds a property to a generator object, a
 *   runtime call, and gives each body a map of its own, so the reader's inline caches miss;
 * - an async generator declared inside the function that returns it is a new closure per
 *   call, whose `prototype` V8 makes (in the runtime) before its first generator object;
 * - an object literal with `get` accessors defines each accessor in the runtime.
 */
import type { UsageMeter } from '../provider-types.js';
import type { TokenUsage } from '../types.js';

/**
 * A body made by an async generator (declare it at module level), with the `destroy` that
 * frees the upstream it reads: core calls it when nobody will read the body.
 * @example
 * async function* upper(src: AsyncIterable<Uint8Array>) { for await (const c of src) yield c; }
 * const body = new GeneratedBody(upper(upstream), () => upstream.destroy?.());
 */
export class GeneratedBody<T = Uint8Array> implements AsyncIterable<T> {
  constructor(
    private readonly generator: AsyncGenerator<T>,
    readonly destroy: () => void,
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<T> {
    return this.generator;
  }
}

/** What a {@link SourceMeter} reads: a translator or guard that counts as it reads. */
export interface UsageSource {
  readonly usage: TokenUsage;
  readonly streamError?: string;
  readonly model?: string;
  readonly usageFinal?: boolean;
  readonly estimatedOutputTokens?: number;
}

/** A meter that reports another object's counts live; the bytes core feeds it are ignored. */
export class SourceMeter implements UsageMeter {
  constructor(private readonly source: UsageSource) {}

  write(): void {}

  end(): void {}

  get usage(): TokenUsage {
    return this.source.usage;
  }

  get streamError(): string | undefined {
    return this.source.streamError;
  }

  get model(): string | undefined {
    return this.source.model;
  }

  get usageFinal(): boolean | undefined {
    return this.source.usageFinal;
  }

  get estimatedOutputTokens(): number | undefined {
    return this.source.estimatedOutputTokens;
  }
}
