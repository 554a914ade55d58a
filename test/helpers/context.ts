/** A bare request context carrying `body`, for tests of what the context itself does with it. */
import { Context } from '../../core/context.js';
import { plainDialect } from '../../core/dialect.js';

export function contextWithBody(body: Buffer): Context {
  const ctx = new Context({
    id: 'r', method: 'POST', path: '/', query: '', headers: {}, httpVersion: '1.1', remoteAddress: '127.0.0.1',
    route: { name: 'r', mode: 'passthrough' }, subpath: '/', dialect: plainDialect, arrivedAt: 0,
  });
  ctx.body = body;
  return ctx;
}
