/**
 * A coding agent's turn (tools, tool calls, tool results: tens of KB) through the gateway's
 * validator, which judges only the parts its schema reads (`ctx.jsonPick`): every verdict
 * and message is the one the shipped schema gives the whole body, for valid turns and for
 * turns broken in the places the schema looks, and in the places it does not.
 */
import t from 'tap';
import { describeError, loadSchema, resolveSchemaPath } from '../../../filters/validator/schemas.js';
import { startGateway } from '../../helpers/gateway.js';
import { config, post } from '../fixtures.js';

const schema = loadSchema(resolveSchemaPath('anthropic-messages.schema.json', '.'));

/** What the shipped schema says of the whole body: null when valid, else the validator's message. */
function wholeVerdict(body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return '(body): must be a JSON object';
  if (schema.validate(body)) return null;
  const { field, message } = describeError(schema.validate.errors![0]);
  return `${field}: ${message}`;
}

/** A turn of `rounds` tool calls, each with its result: about 1.5 KB a round. */
function agentTurn(rounds: number): Record<string, unknown> {
  const messages: unknown[] = [{ role: 'user', content: 'Fix the failing test in src/ — it says “expected 42”.' }];
  for (let i = 0; i < rounds; i++) {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Reading file ${i}.` }, { type: 'tool_use', id: `toolu_${i}`, name: 'read_file', input: { path: `src/f${i}.ts`, lines: [1, 200] } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: [{ type: 'text', text: `export const f${i} = () => "${'é\\n'.repeat(200)}";\n` }] }] });
  }
  const tools = Array.from({ length: 8 }, (_, i) => ({ name: `tool_${i}`, description: 'd'.repeat(300), input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }));
  return { model: 'echo-1', max_tokens: 1024, system: [{ type: 'text', text: 'You are a coding agent.' }], tools, metadata: { user_id: 'u' }, messages };
}

type Turn = Record<string, any>;

/** Breakages in places the schema reads, and in places it does not (which must pass). */
const BREAKAGES: Array<[name: string, breakIt: (turn: Turn) => void]> = [
  ['untouched', () => {}],
  ['a role the schema does not allow, deep in the turn', (turn) => (turn.messages[7].role = 'tool')],
  ['a block without a type', (turn) => delete turn.messages[5].content[0].type],
  ['an empty block type', (turn) => (turn.messages[9].content[1].type = '')],
  ['a text block whose text is a number', (turn) => (turn.messages[3].content[0].text = 42)],
  ['content neither string nor array', (turn) => (turn.messages[4].content = { type: 'text' })],
  ['a tool that is not an object', (turn) => (turn.tools[3] = 'read_file')],
  ['system as a number', (turn) => (turn.system = 7)],
  ['no messages', (turn) => (turn.messages = [])],
  ['max_tokens zero', (turn) => (turn.max_tokens = 0)],
  ['max_tokens as text', (turn) => (turn.max_tokens = '1024')],
  ['an empty model', (turn) => (turn.model = '')],
  ['a temperature above one', (turn) => (turn.temperature = 1.5)],
  ['stop sequences holding a number', (turn) => (turn.stop_sequences = ['a', 2])],
  ['tool_choice without a type', (turn) => (turn.tool_choice = { name: 'x' })],
  ['metadata as an array', (turn) => (turn.metadata = ['u'])],
  ['a message missing its content', (turn) => delete turn.messages[2].content],
  // Where the schema does not look: passes, as the whole body's verdict says.
  ['a tool result holding anything', (turn) => (turn.messages[2].content[0].content = [{ nonsense: [1, { deeper: null }] }])],
  ['tool input of any shape', (turn) => (turn.messages[1].content[1].input = [[['x']]])],
  ['an unknown top-level member', (turn) => (turn.future = { anything: [1, 2, 3] })],
  ['a tool without a name', (turn) => delete turn.tools[0].name],
];

t.test('an agent\'s turn: the verdict and message the shipped schema gives the whole body', async (t) => {
  const gw = await startGateway(t, config('  - name: validator\n'));
  const url = `${gw.url}/v1/echo/v1/messages`;
  const headers = { 'x-workspace-id': 'ws-abc123' };
  let refused = 0;
  for (const [name, breakIt] of BREAKAGES) {
    const turn = agentTurn(12);
    breakIt(turn);
    const body = JSON.stringify(turn);
    t.ok(body.length > 2048, `${name}: ${body.length} bytes, past the 2 KB below which the body is parsed whole`);
    const want = wholeVerdict(turn);
    const got = await post(url, headers, body);
    if (want === null) {
      t.equal(got.status, 200, `${name}: passes`);
    } else {
      refused++;
      t.equal(got.status, 400, `${name}: refused`);
      t.equal((JSON.parse(got.text) as { error: { message: string } }).error.message, want, `${name}: the whole body's message`);
    }
  }
  t.ok(refused >= 15, `${refused} refused`);
});
