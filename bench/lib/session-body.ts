/**
 * A request shaped like a coding agent's turn deep into a session (Claude Code's): cached
 * system blocks, a dozen tools with JSON schemas, then assistant `tool_use` and user
 * `tool_result` turns whose text is agent-like (not all ASCII), up to the size asked. Many
 * small objects and escaped strings, where `x` repeated is one string: what a gateway that
 * parses the body meets in real traffic.
 */

const TOOL_NAMES = ['Read', 'Write', 'Edit', 'Bash', 'Glob', 'Grep', 'LS', 'WebFetch', 'TodoWrite', 'Task', 'NotebookEdit', 'MultiEdit'];

const TOOLS = TOOL_NAMES.map((name) => ({
  name,
  description: `${name}: use it when the task needs it — read its result before going on. `.repeat(6),
  input_schema: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'Absolute path of the file' },
      pattern: { type: 'string', description: 'What to look for' },
      limit: { type: 'number', description: 'At most this many lines' },
      flags: { type: 'array', items: { type: 'string' } },
    },
    required: ['path'],
  },
}));

const SYSTEM = [
  { type: 'text', text: 'You are an agent for software engineering. Be careful with files; ask before deleting anything. '.repeat(12), cache_control: { type: 'ephemeral' } },
];

/**
 * An Anthropic Messages body of exactly `bytes` bytes (at least ~8 KB, the system and the
 * tools), its `stream` flag among the first fields as the bench mock reads it.
 */
export function sessionBody(bytes: number, stream: boolean, model: string, text: string): string {
  const messages: Array<{ role: string; content: unknown }> = [{ role: 'user', content: 'Fix the failing test in src/ — it says “expected 42”.' }];
  const base = { model, max_tokens: 32000, stream, system: SYSTEM, tools: TOOLS, messages, metadata: { user_id: 'user_3d2c1b0a_account_0b1c2d3e_session_6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f' } };
  const result = text.repeat(Math.max(1, Math.ceil(1500 / text.length))).slice(0, 1500);
  const last = { role: 'user', content: '' };
  // Bytes with the last message in place; each turn adds its two messages and two commas.
  let size = Buffer.byteLength(JSON.stringify({ ...base, messages: [...messages, last] }));
  for (let turn = 0; ; turn++) {
    const pair = [
      { role: 'assistant', content: [{ type: 'text', text: 'Let me look at that → reading.' }, { type: 'tool_use', id: `toolu_${turn}`, name: TOOL_NAMES[turn % TOOL_NAMES.length], input: { path: `/work/src/module${turn}.ts` } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${turn}`, content: result }] },
    ];
    size += Buffer.byteLength(JSON.stringify(pair)) - 2 + 1; // the pair's own brackets off, one comma on
    if (size > bytes) break;
    messages.push(...pair);
  }
  messages.push(last);
  // The last user message takes the rest in x's: exactly `bytes`.
  last.content = 'x'.repeat(Math.max(0, bytes - Buffer.byteLength(JSON.stringify(base))));
  return JSON.stringify(base);
}
