/**
 * Anthropic's refusal: `stop_reason: "refusal"`, set when its safety classifiers stop a
 * message (on the message, or a stream's `message_delta`). For the response cache, which
 * does not store one.
 */
import { anyAnswerObject, member } from '../../core/index.js';

const HINTS = ['"refusal"'];

export function isAnthropicRefusal(body: Uint8Array, mode: 'json' | 'sse'): boolean {
  return anyAnswerObject(body, mode, HINTS, (o) => o.stop_reason === 'refusal' || member(o.delta, 'stop_reason') === 'refusal');
}
