/**
 * A test filter that refuses requests carrying `x-test-reject: rate` with the gateway's
 * own 429 (and `retry-after`), as a rate-limit filter would. Load it by path.
 */
import { GatewayError, reply, type FilterPlugin } from '../../core/index.js';

export const REJECT_FILTER_PATH = new URL(import.meta.url).pathname;

const rejecter: FilterPlugin = {
  name: 'test-reject',
  create: () => ({
    onRequest(ctx) {
      if (ctx.headers['x-test-reject'] === 'rate') return reply(new GatewayError('GW_ERR_RATE_LIMITED', 'Too many requests for this test', { headers: { 'retry-after': '7' } }));
      return undefined;
    },
  }),
};
export default rejecter;
