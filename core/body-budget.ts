/**
 * Request-body bytes held across all requests at once (`server.max_inflight_body_bytes`).
 * `max_body_bytes` bounds one body; without this, 500 concurrent 32 MiB uploads would hold
 * 16 GB. A request reserves its declared length before a byte is read (or chunk by chunk
 * when it declares none) and gives it back when its body is let go: once the provider's
 * answer starts to stream, or when the request ends, however it ends.
 */
import { getHeapStatistics } from 'node:v8';
import { GatewayError } from './errors.js';

/** Who holds a reservation: the request's context (core's own field). */
export interface BodyHolder {
  heldBodyBytes: number;
}

export class BodyBudget {
  /** Bytes reserved now, by every request together. */
  held = 0;

  /**
   * @param limit `server.max_inflight_body_bytes`; the gateway sets it again on reload.
   * @param onRefused called once per refused reservation (the gateway counts them in a metric).
   */
  constructor(
    public limit: number,
    private readonly onRefused: () => void = () => {},
  ) {}

  /** Reserve `bytes` more for `holder`; false, reserving nothing, when they would pass the limit. */
  reserve(holder: BodyHolder, bytes: number): boolean {
    if (this.held + bytes > this.limit) {
      this.onRefused();
      return false;
    }
    this.held += bytes;
    holder.heldBodyBytes += bytes;
    return true;
  }

  /** Give back everything `holder` reserved (a no-op the second time). */
  release(holder: BodyHolder): void {
    this.held -= holder.heldBodyBytes;
    holder.heldBodyBytes = 0;
  }
}

/** The refusal when the budget is spent: a 503 with `retry-after`, which the SDKs retry. */
export function bodyBudgetSpent(): GatewayError {
  // Bodies are held for milliseconds to seconds: a second later there is usually room.
  return new GatewayError('GW_ERR_OVERLOADED', 'The gateway is holding as many request bodies as it may; retry shortly', { headers: { 'retry-after': '1' } });
}

const GIB = 1024 ** 3;

/**
 * The default of `server.max_inflight_body_bytes`: a quarter of the V8 heap limit, at most
 * 1 GiB, never below one largest body. The raw bytes live outside the heap, but a parsed
 * body lives on it, as large again or twice that (UTF-16 strings): a quarter leaves the
 * heap room for the rest. The heap limit follows `--max-old-space-size` and the memory the
 * machine or container has, so the default shrinks with a small container.
 */
export function defaultInflightBodyBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.min(GIB, Math.floor(getHeapStatistics().heap_size_limit / 4)));
}

