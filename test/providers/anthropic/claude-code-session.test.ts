/**
 * A real Claude Code session, recorded on the wire (test/fixtures/claude-code/session.json:
 * CLI 2.1.197, a Bash tool turn then a `-c` resume, x-api-key then Bearer), replayed
 * request by request through a keyed, rate-limited, audited gateway. Each answer must have
 * the recorded status and event sequence, the upstream must get the request as Claude Code
 * shaped it (betas, `?beta=true`) with only the credential swapped, and the audit must have
 * one line per Messages call with its model and tokens.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { GATEWAY_KEY } from '../../helpers/anthropic.js';
import { CC_KEY, startClaudeCodeGateway } from '../../helpers/claude-code.js';
import { waitFor } from '../../filters/fixtures.js';

interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
  answer: { status: number; content_type?: string; events: string[] };
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/claude-code/session.json', import.meta.url), 'utf8')) as { exchanges: Exchange[] };

function eventNames(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
}

t.test('the recorded Claude Code session replays through the gateway', async (t) => {
  const { mock, gw, audit } = await startClaudeCodeGateway(t);
  mock.scriptedTool = { name: 'Bash', input: { command: 'echo hello-from-tool', description: 'Print a greeting' } };
  const posts: Exchange[] = [];
  for (const [i, ex] of fixture.exchanges.entries()) {
    const headers = Object.fromEntries(Object.entries(ex.headers).map(([k, v]) => [k, v.replace('<workspace-key>', CC_KEY)]));
    const res = await fetch(`${gw.url}${ex.url}`, { method: ex.method, headers, body: ex.body ? JSON.stringify(ex.body) : undefined });
    const text = await res.text();
    t.equal(res.status, ex.answer.status, `#${i} ${ex.method} ${ex.url}: ${text.slice(0, 200)}`);
    t.same(eventNames(text), ex.answer.events, `#${i}: the recorded event sequence`);
    if (ex.method === 'POST') posts.push(ex);
  }

  t.equal(mock.requests.length, posts.length, 'only the Messages calls went upstream (the HEAD probes stayed at the gateway)');
  for (const [i, seen] of mock.requests.entries()) {
    t.equal(seen.url, '/v1/messages?beta=true');
    t.equal(seen.headers['anthropic-beta'], posts[i].headers['anthropic-beta'], 'the betas as Claude Code sent them');
    t.equal(seen.headers['x-api-key'], GATEWAY_KEY, "the gateway's key replaced the workspace key");
    t.notOk(seen.headers.authorization, 'no client Bearer upstream');
    t.same(JSON.parse(seen.body.toString('utf8')), posts[i].body);
  }

  t.ok(await waitFor(() => audit().length >= posts.length));
  await sleep(100);
  const lines = audit();
  t.equal(lines.length, posts.length, 'one audit line per Messages call, none for the probes');
  for (const [i, line] of lines.entries()) {
    const body = posts[i].body as { model: string; metadata: { user_id: string } };
    const session = (JSON.parse(body.metadata.user_id) as { session_id: string }).session_id;
    t.match(line, {
      event: 'ai_request', user: 'dev1', workspace: 'ws-cc', provider: 'anthropic', model: body.model, status: 200, stream: true,
      tokens_in: 1234, tokens_out: 56, cache_creation_tokens: 300, cache_read_tokens: 2000, auth: 'key', session, error: null,
    }, `audit line #${i}`);
    t.ok((line.cost_usd as number) > 0, 'priced');
  }
});
