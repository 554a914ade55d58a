/**
 * Re-record test/fixtures/claude-code/session.json against a newer Claude Code:
 *
 *   npx tsx test/helpers/record-claude-code.ts        # prints the env to run the CLI with
 *   claude -p "Run echo" --output-format stream-json --verbose --allowedTools Bash
 *   claude -c -p "Again" --output-format stream-json --verbose   # with ANTHROPIC_AUTH_TOKEN instead
 *   Ctrl-C                                            # writes the fixture
 *
 * It starts the Claude Code test gateway (helpers/claude-code.ts) with the mock scripted
 * to call Bash once, and a recording proxy in front of it that keeps what the CLI sent and
 * got. The fixture keeps every header and body field as sent, but the key (a placeholder),
 * the device id (zeros) and Claude Code's own prompt text, tool descriptions and schemas
 * (placeholders with their lengths: licence and size). Nothing here runs in `npm test`.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CC_KEY, startClaudeCodeGateway } from './claude-code.js';

type Json = Record<string, unknown>;
const FIXTURE = process.env.CC_FIXTURE_OUT ? new URL(`file://${process.env.CC_FIXTURE_OUT}`) : new URL('../fixtures/claude-code/session.json', import.meta.url);
const DROPPED = new Set(['host', 'content-length', 'connection', 'accept-encoding']);
const exchanges: Json[] = [];

const elide = (text: string): string => (text.length > 200 ? `<elided: ${text.length} characters of Claude Code's prompt>` : text);
const block = (b: Json): Json => (b.type === 'text' && typeof b.text === 'string' ? { ...b, text: elide(b.text) } : b);
const content = (c: unknown): unknown => (typeof c === 'string' ? elide(c) : Array.isArray(c) ? c.map((b) => block(b as Json)) : c);

function sanitized(raw: string): Json | null {
  if (raw === '') return null;
  const body = JSON.parse(raw) as Json & { system?: Json[]; tools?: Array<{ name: string; input_schema?: { properties?: Json } }>; messages?: Json[]; metadata?: { user_id?: string } };
  if (Array.isArray(body.system)) body.system = body.system.map(block);
  if (body.tools) body.tools = body.tools.map((t) => ({ name: t.name, description: '<elided>', input_schema: { type: 'object', properties: Object.fromEntries(Object.keys(t.input_schema?.properties ?? {}).map((p) => [p, {}])) } })) as typeof body.tools;
  if (body.messages) body.messages = body.messages.map((m) => ({ ...m, content: content(m.content) }));
  if (body.metadata?.user_id?.startsWith('{')) body.metadata.user_id = JSON.stringify({ ...(JSON.parse(body.metadata.user_id) as Json), device_id: '0'.repeat(64) });
  return body;
}

const noTeardown = { teardown: () => undefined };
const { mock, gw } = await startClaudeCodeGateway(noTeardown);
mock.scriptedTool = { name: 'Bash', input: { command: 'echo hello-from-tool', description: 'Print a greeting' } };
const target = new URL(gw.url);

const proxy = http.createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    let text = '';
    answer.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      res.write(c);
    });
    answer.on('end', () => {
      res.end();
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !DROPPED.has(k)).map(([k, v]) => [k, String(v).replace(CC_KEY, '<workspace-key>')]));
      const events = text.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
      exchanges.push({ method: req.method, url: req.url, headers, body: sanitized(raw.toString('utf8')), recorded_bytes: raw.length, answer: { status: answer.statusCode, content_type: answer.headers['content-type'], events } });
      console.log(req.method, req.url, answer.statusCode);
    });
  });
  up.on('error', (e) => res.destroy(e));
  up.end(raw);
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
console.log(`export ANTHROPIC_BASE_URL=http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1/claude`);
console.log(`export ANTHROPIC_API_KEY=${CC_KEY}   # or ANTHROPIC_AUTH_TOKEN`);
process.on('SIGINT', () => {
  const text = JSON.stringify({ recorded_with: '<CLI version and commands: fill in>', exchanges }, null, 1);
  if (text.includes(CC_KEY)) throw new Error('the workspace key leaked into the fixture');
  writeFileSync(FIXTURE, `${text}\n`);
  console.log(`wrote ${exchanges.length} exchanges to ${FIXTURE.pathname}`);
  process.exit(0);
});
