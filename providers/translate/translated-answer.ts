import { GatewayError } from '../../core/errors.js';

/**
 * An upstream's JSON answer translated for the client. An answer whose parts are not the
 * shapes its API promises (a `content` that is no list, a block that is `null`) is the
 * upstream's fault: a 502 `GW_ERR_UPSTREAM_PROTOCOL`, as a body that is not JSON is, never
 * the gateway's own 500.
 * @example
 * const { body, usage } = translatedAnswer(() => anthropicToOpenAIResponse(message, ids), 'message');
 */
export function translatedAnswer<T>(translate: () => T, what: string): T {
  try {
    return translate();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('GW_ERR_UPSTREAM_PROTOCOL', `Upstream answered with a ${what} the gateway cannot translate`, { cause: err });
  }
}
