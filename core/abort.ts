/**
 * A request's cancellation, cheap enough for every request. Node's AbortController costs
 * about 2.5 µs to make and as much again per listener added and removed (EventTarget);
 * most requests finish without ever being cancelled, and undici accepts a plain
 * EventEmitter-like object as a request's `signal`. So the request carries this, and a
 * real AbortSignal is made only for a plugin that reads `ctx.signal`.
 */
import type { Cancellation } from './types.js';

type Listener = () => void;

export class RequestAbort implements Cancellation {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Listener[] | undefined = undefined;
  private controller: AbortController | undefined = undefined;

  /** An AbortSignal that fires with this, made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const fn of listeners) fn();
    this.controller?.abort(reason);
  }

  /** Runs `listener` once, when aborted. */
  once(_event: 'abort', listener: Listener): this {
    if (this.aborted) return this;
    // Usually one listener (the upstream request's) for the request's whole life: an array
    // literal holds exactly it, where `[]` + push would reserve room for 17.
    if (this.listeners) this.listeners.push(listener);
    else this.listeners = [listener];
    return this;
  }

  on(event: 'abort', listener: Listener): this {
    return this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    const list = this.listeners;
    if (!list) return this;
    // The usual one listener goes without a splice, which makes an array of what it removes.
    if (list.length === 1 && list[0] === listener) this.listeners = undefined;
    else {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
}

/** An AbortSignal seen as a {@link Cancellation}: for attempts whose cancellation is a combined signal. */
export function cancellationOf(signal: AbortSignal): Cancellation {
  return new SignalCancellation(signal);
}

/** A class, not an object literal with getters: V8 defines a literal's accessors in its runtime, per object. */
export class SignalCancellation implements Cancellation {
  constructor(private readonly signal: AbortSignal) {}

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason as unknown;
  }

  once(_event: 'abort', listener: Listener): this {
    this.signal.addEventListener('abort', listener, { once: true });
    return this;
  }

  on(event: 'abort', listener: Listener): this {
    return this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    this.signal.removeEventListener('abort', listener);
    return this;
  }
}
