/**
 * A test filter that answers, itself, a request carrying `x-canned: yes` with a 200
 * Anthropic message (as a plugin serving a notice or a fixed answer would). Load it by path.
 */
import type { FilterPlugin } from '../../../core/index.js';

export const CANNED_FILTER_PATH = new URL(import.meta.url).pathname;
export const CANNED_TEXT = 'canned answer for this caller only';

const canned: FilterPlugin = {
  name: 'test-canned',
  create: () => ({
    onRequest(ctx) {
      if (ctx.headers['x-canned'] !== 'yes') return undefined;
      const body = JSON.stringify({ id: 'msg_canned', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: CANNED_TEXT }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } });
      return { action: 'reply', response: { status: 200, headers: { 'content-type': 'application/json' }, body } };
    },
  }),
};
export default canned;
