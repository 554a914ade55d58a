/**
 * The tool calls a request's conversation ends on: the tool-use blocks of its last
 * assistant turn, in the Anthropic Messages shape (`tool_use` blocks), OpenAI chat's
 * (`tool_calls`, or a legacy `function_call`), the OpenAI Responses API's (the run of
 * call items in `input`: `function_call`, and Codex's `custom_tool_call` and
 * `local_shell_call`, …), Bedrock Converse's (`toolUse`) and Gemini's
 * (`functionCall` parts of a `model` turn). An agent stuck in a loop re-sends the same
 * call (same tool name and arguments, a new id) turn after turn, so these calls'
 * fingerprint repeats — the same fingerprint whichever dialect carries the call.
 */
import { createHash } from 'node:crypto';
import { shapeText, WHOLE, type JsonReads, type RequestContext } from '../../core/index.js';
import { ContainerBudget, DENSITY_CHECK_MIN } from '../../core/json-density.js';

const TEXT: JsonReads = { text: true };
const BLOCKS: JsonReads = {
  items: { members: { type: TEXT, name: TEXT, input: WHOLE, toolUse: { members: { name: TEXT, input: WHOLE } }, functionCall: { members: { name: TEXT, args: WHOLE } } } },
};
const FUNCTION: JsonReads = { members: { name: TEXT, arguments: TEXT } };
const TURN: JsonReads = {
  members: { role: TEXT, content: BLOCKS, parts: BLOCKS, tool_calls: { items: { members: { function: FUNCTION } } }, function_call: FUNCTION },
};
/**
 * A Responses API `input` item: a message (a turn) or a call — `function_call` (`arguments`),
 * `custom_tool_call` (free-form `input`), `local_shell_call` (`action`), `mcp_call`, ….
 */
const ITEM: JsonReads = { members: { ...TURN.members, type: TEXT, name: TEXT, arguments: TEXT, input: WHOLE, action: WHOLE, operation: WHOLE } };

/**
 * What {@link lastToolCallFingerprint} reads, for `ctx.jsonPick`: each turn's role and its
 * calls, not the tool results and text that make up most of an agent's turn.
 */
export const TOOL_CALL_READS: JsonReads = { members: { messages: { items: TURN }, contents: { items: TURN }, input: { items: ITEM } } };

/**
 * Turns read from the end first. An agent's last assistant turn is followed by its tool
 * results: one user turn (Anthropic, Gemini) or one per parallel call (OpenAI).
 */
const RECENT_TURNS = 8;
const RECENT_TOOL_CALL_READS: JsonReads = {
  members: { messages: { items: TURN, lastItems: RECENT_TURNS }, contents: { items: TURN, lastItems: RECENT_TURNS }, input: { items: ITEM, lastItems: RECENT_TURNS } },
};

/**
 * {@link lastToolCallFingerprint} of a body read by `jsonPick` (the request context's): the
 * last turns first, and every turn only when none of those is the assistant's. A long
 * session's turn holds hundreds of earlier calls that no fingerprint looks at.
 */
export function pickedToolCallFingerprint(ctx: Pick<RequestContext, 'jsonPick'>, budget?: ContainerBudget): string | undefined {
  const turns = turnsOf(ctx.jsonPick(RECENT_TOOL_CALL_READS));
  if (!turns) return undefined;
  const last = lastAssistant(turns);
  // A run of Responses calls that starts where the read turns do may go on before them.
  const cut = last !== undefined && turns.length > RECENT_TURNS && last.start === turns.length - RECENT_TURNS && isFunctionCall(turns[last.start]);
  if (last && !cut) return turnFingerprint(asText(last.turn) as Record<string, unknown>, budget);
  return turns.length > RECENT_TURNS ? lastToolCallFingerprint(ctx.jsonPick(TOOL_CALL_READS), true, budget) : undefined;
}

/**
 * The budget a request's tool-call `arguments` are parsed under (core/json-density.ts), or
 * none for a body too small to be counted: all its arguments together cost JSON.parse a few
 * tens of ms at worst, and the hot path pays nothing.
 */
export function argumentsBudget(bodyLength: number): ContainerBudget | undefined {
  return bodyLength < DENSITY_CHECK_MIN ? undefined : new ContainerBudget(bodyLength);
}

function turnsOf(body: unknown): unknown[] | undefined {
  const b = body as { messages?: unknown; contents?: unknown; input?: unknown } | null;
  return Array.isArray(b?.messages) ? b.messages : Array.isArray(b?.contents) ? b.contents : Array.isArray(b?.input) ? b.input : undefined;
}

/** A Responses API call item (`function_call`, `custom_tool_call`, …), not a call's `…_call_output`. */
function isFunctionCall(item: unknown): boolean {
  const type = (item as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.endsWith('_call');
}

interface CallItem {
  type: string;
  name?: unknown;
  arguments?: unknown;
  input?: unknown;
  action?: unknown;
  operation?: unknown;
}

/** A Responses call item as a chat `tool_calls` entry: its name (or type) and whatever holds its arguments. */
function asChatCall(item: unknown): { function: { name: unknown; arguments: unknown } } {
  const call = item as CallItem;
  return { function: { name: call.name ?? call.type, arguments: call.arguments ?? call.input ?? call.action ?? call.operation } };
}

/**
 * The conversation's last assistant (or Gemini `model`) turn and the index it starts at.
 * In the Responses API an assistant turn's calls are separate call items (followed by
 * their `…_call_output`s): their run is read as the chat turn it
 * stands for, `{ role: 'assistant', tool_calls: [{ function: { name, arguments } }] }`.
 */
function lastAssistant(turns: readonly unknown[]): { turn: Record<string, unknown>; start: number } | undefined {
  for (let i = turns.length - 1; i >= 0; i--) {
    const m = turns[i] as Record<string, unknown> | null;
    if (m && (m.role === 'assistant' || m.role === 'model')) return { turn: m, start: i };
    if (isFunctionCall(m)) {
      let start = i;
      while (start > 0 && isFunctionCall(turns[start - 1])) start--;
      return { turn: { role: 'assistant', tool_calls: turns.slice(start, i + 1).map(asChatCall) }, start };
    }
  }
  return undefined;
}

interface Call {
  name: string;
  args: unknown;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same call. */
function canonical(value: unknown, depth = 0): string {
  if (depth > 32) return '"…"';
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A call's arguments as JSON, or as written when they are no JSON, or when parsing them would
 * pass the request's container budget: a body of many dense argument strings (each too small
 * to be refused alone) must not hold the event loop here. Such arguments are fingerprinted as
 * text, as unparsable ones always were, rather than refused: a loop re-sends them byte for
 * byte, so its repeats still match, and the guardrail is a safety net, not a validator (a
 * route that translates the call parses them under core's budget and refuses there).
 */
function parsedArgs(raw: unknown, budget: ContainerBudget | undefined): unknown {
  if (typeof raw !== 'string') return raw;
  // UTF-8, not latin1: a character's UTF-8 bytes are never a bracket or a quote.
  if (budget?.count(Buffer.from(raw, 'utf8'))) return raw;
  try {
    return JSON.parse(raw); // OpenAI sends arguments as a JSON string; whitespace must not matter
  } catch {
    return raw;
  }
}

function callsOf(message: Record<string, unknown>, budget: ContainerBudget | undefined): Call[] {
  const out: Call[] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const tc of message.tool_calls as Array<{ function?: { name?: unknown; arguments?: unknown } }>) {
      if (typeof tc?.function?.name === 'string') out.push({ name: tc.function.name, args: parsedArgs(tc.function.arguments, budget) });
    }
  }
  const legacy = message.function_call as { name?: unknown; arguments?: unknown } | undefined;
  if (legacy && typeof legacy.name === 'string') out.push({ name: legacy.name, args: parsedArgs(legacy.arguments, budget) });
  const blocks = Array.isArray(message.content) ? message.content : Array.isArray(message.parts) ? message.parts : [];
  for (const b of blocks as Array<Record<string, unknown>>) {
    if (!b || typeof b !== 'object') continue;
    if (b.type === 'tool_use' && typeof b.name === 'string') out.push({ name: b.name, args: b.input });
    const bedrock = b.toolUse as { name?: unknown; input?: unknown } | undefined;
    if (bedrock && typeof bedrock.name === 'string') out.push({ name: bedrock.name, args: bedrock.input });
    const gemini = b.functionCall as { name?: unknown; args?: unknown } | undefined;
    if (gemini && typeof gemini.name === 'string') out.push({ name: gemini.name, args: gemini.args });
  }
  return out;
}

/**
 * Past this depth in a turn nothing reaches a fingerprint: a call's arguments lie a few
 * levels down and {@link canonical} stops 32 levels into them.
 */
const TEXT_DEPTH = 48;

/**
 * A value read from the shape (strings as UTF-8 bytes) with its strings and keys as text,
 * down to {@link TEXT_DEPTH} (a client's JSON may nest deeper than the stack).
 */
function asText(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return shapeText(value);
  if (!value || typeof value !== 'object' || depth > TEXT_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => asText(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, shapeText(k), { value: asText(v, depth + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * A short fingerprint of the last assistant turn's tool calls, or undefined when it made
 * none. `body` may be `ctx.json()` or a shape read as {@link TOOL_CALL_READS}
 * (`ctx.jsonPick`, `shaped`): the calls' strings are then read as text, so both give one
 * fingerprint.
 * @example
 * lastToolCallFingerprint({ messages: [..., { role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 'ls', input: { path: '.' } }] }, ...] })
 */
export function lastToolCallFingerprint(body: unknown, shaped = false, budget?: ContainerBudget): string | undefined {
  const turns = turnsOf(body);
  const last = turns && lastAssistant(turns);
  if (!last) return undefined;
  return turnFingerprint(shaped ? (asText(last.turn) as Record<string, unknown>) : last.turn, budget);
}

/** The fingerprint of an assistant turn's calls (its strings as text), or undefined when it made none. */
function turnFingerprint(turn: Record<string, unknown>, budget: ContainerBudget | undefined): string | undefined {
  const calls = callsOf(turn, budget);
  if (calls.length === 0) return undefined;
  const text = calls.map((c) => `${c.name}(${canonical(c.args)})`).join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}
