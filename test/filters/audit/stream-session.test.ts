/**
 * Core lets go of the parsed request body once a streamed answer begins; the audit line,
 * written after the stream, still carries the session read from `metadata.user_id`
 * (noted while the body was parsed), without any filter deciding it early.
 */
import path from 'node:path';
import t from 'tap';
import { startGateway } from '../../helpers/gateway.js';
import { auditLines, config, messages, post, waitFor } from '../fixtures.js';
import { Context } from '../../../core/context.js';
import { plainDialect } from '../../../core/dialect.js';
import { noteMetadataSession, sessionOf } from '../../../filters/cost/session.js';

const SESSION = '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';

t.test('a streamed request keeps its metadata session on the audit line', async (t) => {
  const gw = await startGateway(t, config(`  - name: auth
  - name: audit
    config: { stdout: false, file: audit.log, flush_interval_ms: 20 }
`));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const res = await post(url, { 'x-workspace-id': 'ws-abc123', 'x-request-id': 'streamed' }, messages({ stream: true, metadata: { user_id: `user_x_account_y_session_${SESSION}` } }));
  t.equal(res.status, 200);
  t.match(res.text, /event: message_stop/, 'a whole stream');
  const file = path.join(gw.dir, 'audit.log');
  t.ok(await waitFor(() => auditLines(file).length === 1));
  t.match(auditLines(file)[0], { request_id: 'streamed', stream: true, session: SESSION });
});

t.test('a noted metadata session is used without parsing the body again', async (t) => {
  const ctx = new Context({
    id: 'r', method: 'POST', path: '/v1/messages', query: '', headers: {}, httpVersion: '1.1', remoteAddress: '127.0.0.1',
    route: { name: 'r', mode: 'passthrough' }, subpath: '/v1/messages', dialect: plainDialect, arrivedAt: 0,
  });
  ctx.kind = 'generation';
  ctx.body = Buffer.from(messages({ metadata: { user_id: `user_x_account_y_session_${SESSION}` } }));
  noteMetadataSession(ctx);
  ctx.releaseParsed();
  ctx.body = Buffer.from('{"no longer":"the request"}'); // a re-parse would find no session
  t.equal(sessionOf(ctx), SESSION);
});

t.test('a noted absence of a metadata session is not parsed again either', async (t) => {
  const ctx = new Context({
    id: 'r', method: 'POST', path: '/v1/messages', query: '', headers: {}, httpVersion: '1.1', remoteAddress: '127.0.0.1',
    route: { name: 'r', mode: 'passthrough' }, subpath: '/v1/messages', dialect: plainDialect, arrivedAt: 0,
  });
  ctx.kind = 'generation';
  ctx.body = Buffer.from(messages({}));
  noteMetadataSession(ctx);
  ctx.releaseParsed();
  // Were the body parsed again, this session would be found: the noted null must win.
  ctx.body = Buffer.from(messages({ metadata: { user_id: `user_x_account_y_session_${SESSION}` } }));
  t.equal(sessionOf(ctx), null);
});
