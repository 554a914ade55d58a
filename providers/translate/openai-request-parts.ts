/**
 * Reading an OpenAI chat request, shared by the translators that build another API's
 * request from it (Anthropic, Gemini, Bedrock Converse): the checks and conversions that do not
 * depend on the target, each failing with a 400 that names the offending field.
 */
import { GatewayError } from '../../core/errors.js';
import { TEXT_STRINGS, type BodyStrings } from '../../core/json-body.js';
import type { OpenAIChatRequest, OpenAIContentPart } from './openai-anthropic/openai-types.js';

/** A 400 in the caller's dialect, naming the offending field. */
export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message, { param });
}

/** An assistant message's `tool_calls`: none, or an array (anything else is the caller's 400). */
export function toolCallsOf<T>(calls: readonly T[] | null | undefined, at: string): readonly T[] {
  if (calls == null) return [];
  if (!Array.isArray(calls)) throw invalid('`tool_calls` must be an array', `${at}.tool_calls`);
  return calls;
}

/**
 * Append `items` to `to` one by one: `to.push(...items)` passes every item as an argument,
 * and a turn of a few hundred thousand parts overflows the stack.
 */
export function appendAll<T>(to: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) to.push(items[i]);
}

/**
 * Refuse the first field in `fields` that is set to a value the target cannot honour.
 * @example
 * refuseUnsupported(req, [['n', (v) => v !== 1]], 'Gemini') // throws 400 param "n" when n is 2
 */
export function refuseUnsupported(req: OpenAIChatRequest, fields: readonly UnsupportedField[], target: string): void {
  for (const [field, isSet] of fields) {
    const value = req[field];
    if (value !== undefined && value !== null && isSet(value)) throw invalid(`\`${field}\` is not supported for this model's provider (${target})`, field);
  }
}

/** A field the target cannot honour: its name and when a value counts as set. */
export type UnsupportedField = readonly [field: string, isSet: (v: unknown) => boolean];

/** Fields that change what the client gets back and that no translated target honours. */
export const UNSUPPORTED_ANYWHERE: readonly UnsupportedField[] = [
  ['n', (v) => v !== 1],
  ['logprobs', (v) => v !== false],
  ['top_logprobs', () => true],
  ['logit_bias', (v) => typeof v !== 'object' || Object.keys(v as object).length > 0],
  ['audio', () => true],
  ['modalities', (v) => !Array.isArray(v) || v.some((m) => m !== 'text')],
  ['prediction', () => true],
  ['functions', () => true],
  ['function_call', () => true],
  ['web_search_options', () => true],
];

/** Also refused by targets without sampling penalties or reasoning effort (Anthropic, Converse). */
export const UNSUPPORTED_WITHOUT_PENALTIES: readonly UnsupportedField[] = [
  ...UNSUPPORTED_ANYWHERE.slice(0, 4),
  ['frequency_penalty', (v) => v !== 0],
  ['presence_penalty', (v) => v !== 0],
  ...UNSUPPORTED_ANYWHERE.slice(4),
  ['reasoning_effort', () => true],
];

/** The messages array, checked to be a non-empty array, and the model id. */
export function checkBasics(req: OpenAIChatRequest): void {
  if (typeof req.model !== 'string' || req.model === '') throw invalid('`model` is required', 'model');
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw invalid('`messages` must be a non-empty array', 'messages');
}

/** The text of string content or of text parts; any other part kind is refused. */
export function textsOf(content: string | OpenAIContentPart[] | null | undefined, param: string, strings: BodyStrings = TEXT_STRINGS): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) throw invalid('`content` must be a string or an array of content parts', param);
  return content.map((part, j) => {
    if (part?.type === 'text' && typeof part.text === 'string') return part.text;
    if (part?.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
    throw invalid(`content part type \`${shown(part?.type, strings)}\` is not supported here`, `${param}[${j}]`);
  });
}

/** A value from the request as an error message quotes it: a string's text. */
export function shown(value: unknown, strings: BodyStrings): string {
  return typeof value === 'string' ? strings.text(value) : String(value);
}

/** A base64 data URL split into its media type (lower-cased) and payload. */
export interface DataUrl {
  mediaType: string;
  data: string;
}

/** Parse `data:<type>;base64,<data>`; undefined when `url` is not a data URL. @throws 400 for a data URL that is not base64. */
export function parseDataUrl(url: string, param: string, strings: BodyStrings = TEXT_STRINGS): DataUrl | undefined {
  if (!url.startsWith('data:')) return undefined;
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!match) throw invalid('image data URLs must be base64-encoded (`data:<type>;base64,<data>`)', param);
  // Lower-cased as text: on UTF-8 bytes read one per character it would change bytes.
  return { mediaType: strings.of(strings.text(match[1]).toLowerCase()), data: match[2] };
}

/** The `image_url.url` of an image part, checked to be a string. */
export function imageUrlOf(part: OpenAIContentPart, param: string): string {
  const url = ((part as { image_url?: { url?: unknown } }).image_url)?.url;
  if (typeof url !== 'string') throw invalid('`image_url.url` must be a string', param);
  return url;
}

/** A tool call's `arguments` JSON string as an object; `""` reads as `{}`. */
export function toolArguments(args: unknown, param: string, strings: BodyStrings = TEXT_STRINGS): Record<string, unknown> {
  let input: unknown = {};
  // Trimmed as text: JS white space includes U+00A0, whose second UTF-8 byte reads as one.
  if (typeof args === 'string' && strings.text(args).trim() !== '') {
    try {
      input = strings.parse(args);
    } catch (err) {
      // Too dense to parse (core/json-density.ts): its own message says why.
      if (err instanceof GatewayError) throw err;
      throw invalid('tool call `arguments` is not valid JSON', param);
    }
  } else if (args !== undefined && args !== '' && typeof args !== 'string') {
    throw invalid('tool call `arguments` must be a JSON string', param);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('tool call `arguments` must encode a JSON object', param);
  return input as Record<string, unknown>;
}

/** `stop` as a list (possibly empty). */
export function stopList(req: OpenAIChatRequest): string[] {
  if (req.stop == null) return [];
  const stops = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string')) throw invalid('`stop` must be a string or an array of strings', 'stop');
  return stops;
}

/** The output cap the client asked for, if any: `max_completion_tokens` supersedes the deprecated `max_tokens`. */
export function maxTokensOf(req: OpenAIChatRequest): number | undefined {
  const field = req.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const value = req[field];
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(`\`${field}\` must be a positive integer`, field);
  return value;
}

/** A sampling parameter, checked to be a number when set. */
export function numberOf(req: OpenAIChatRequest, field: 'temperature' | 'top_p' | 'frequency_penalty' | 'presence_penalty' | 'seed'): number | undefined {
  const value = req[field];
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`\`${field}\` must be a number`, field);
  return value;
}

/** The function tools, checked: each has a name. */
export function functionTools(req: OpenAIChatRequest): Array<{ name: string; description?: string; parameters?: Record<string, unknown> }> {
  const tools = req.tools ?? [];
  if (!Array.isArray(tools)) throw invalid('`tools` must be an array', 'tools');
  return tools.map((tool, i) => {
    if (tool?.type !== 'function' || typeof tool.function?.name !== 'string') throw invalid('only `function` tools with a name are supported', `tools[${i}]`);
    const { name, description, parameters } = tool.function;
    return { name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}) };
  });
}

/** `tool_choice`, normalised; a forcing choice without tools is refused. */
export type ToolChoice = { kind: 'auto' | 'none' | 'required' } | { kind: 'named'; name: string } | undefined;

export function toolChoiceOf(req: OpenAIChatRequest, hasTools: boolean): ToolChoice {
  const c = req.tool_choice;
  if (c == null) return undefined;
  if (!hasTools) {
    // 'auto'/'none' without tools is harmless and common; forcing a tool that does not exist is not.
    if (c === 'required' || typeof c === 'object') throw invalid('`tool_choice` requires `tools`', 'tool_choice');
    return undefined;
  }
  if (c === 'auto' || c === 'none' || c === 'required') return { kind: c };
  if (typeof c === 'object' && c.type === 'function' && typeof c.function?.name === 'string') return { kind: 'named', name: c.function.name };
  throw invalid('`tool_choice` must be auto, none, required or a named function', 'tool_choice');
}

/** An instruction standing in for `response_format` where the target has no JSON mode. */
export function responseFormatInstruction(req: OpenAIChatRequest): string | undefined {
  const f = req.response_format;
  if (f == null || f.type === 'text') return undefined;
  if (f.type === 'json_object') return 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';
  if (f.type === 'json_schema' && typeof f.json_schema?.name === 'string') {
    const about = f.json_schema.description ? ` (${f.json_schema.description})` : '';
    const schema = JSON.stringify(f.json_schema.schema ?? { type: 'object' });
    return `Respond with a single valid JSON value that conforms to the JSON Schema "${f.json_schema.name}"${about} below, and nothing else: no prose, no code fences.\n${schema}`;
  }
  throw invalid('`response_format.type` must be text, json_object or json_schema (with a name)', 'response_format');
}
