/**
 * A dialect renders gateway errors the way one client API expects them, so each SDK's
 * error classes and retry logic work. Providers bring their own; core knows only `plain`.
 */
import type { GatewayError } from './errors.js';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Dialect {
  /** `anthropic`, `openai`, `bedrock`, `plain`, … */
  readonly name: string;
  renderError(error: GatewayError, requestId: string): RenderedError;
  /**
   * An error as one event of this dialect's stream format, for failures after the
   * response head was sent. Omit when the format has none: the stream is then cut.
   */
  renderStreamError?(error: GatewayError, requestId: string): Uint8Array;
}

/** JSON errors for gateway endpoints and unknown routes. */
export const plainDialect: Dialect = {
  name: 'plain',
  renderError(error, requestId) {
    return {
      status: error.status,
      headers: { 'content-type': 'application/json', ...error.headers },
      body: JSON.stringify({ error: { code: error.code, type: error.category, message: error.message, request_id: requestId } }),
    };
  },
};
