/**
 * OpenAI Chat Completions request → Anthropic Messages request. Pure: no I/O, no clock.
 *
 * Choices worth knowing (each is a place where the two APIs differ):
 * - `system` and `developer` messages, wherever they appear, are hoisted into the
 *   top-level `system`, joined with a blank line; Anthropic has no mid-conversation system.
 * - Consecutive messages of the same Anthropic role are merged, because Anthropic wants
 *   user/assistant alternation; `tool` results become `tool_result` blocks of a user
 *   message and are put first in it, as Anthropic requires.
 * - `response_format` json_object / json_schema become an instruction appended to `system`
 *   (the schema included verbatim); the reply is not forced or validated.
 * - An empty `arguments` string in an assistant tool call is read as `{}`.
 * - Fields with no Anthropic meaning that change the output (`n` > 1, `logprobs`,
 *   penalties, audio, …) are refused with a 400 naming the field; fields that only tune
 *   OpenAI-side behaviour (`seed`, `store`, `service_tier`, …) and unknown fields are dropped.
 * - Images: data URLs become base64 blocks, `https` URLs become URL sources that Anthropic
 *   fetches; the gateway itself never fetches a URL.
 */
import type {
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from './anthropic-types.js';
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage } from './openai-types.js';
import { TEXT_STRINGS, type BodyStrings } from '../../../core/json-body.js';
import { imageUrlOf, invalid, parseDataUrl, refuseUnsupported, responseFormatInstruction, shown, textsOf, toolArguments, UNSUPPORTED_WITHOUT_PENALTIES , toolCallsOf, appendAll } from '../openai-request-parts.js';

export interface RequestTranslationOptions {
  /** `max_tokens` sent when the client set none (Anthropic requires one); from the provider's config. */
  readonly defaultMaxTokens: number;
  /**
   * How the request's strings are held (text by default). The translation copies them and
   * adds ASCII, so serialised as `strings.serialize` does, the body's bytes are the
   * same either way.
   */
  readonly strings?: BodyStrings;
}

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * Translate an OpenAI chat request into an Anthropic Messages body.
 * The model id is passed through unchanged (aliases are resolved before this).
 * @throws GatewayError `GW_ERR_REQUEST_INVALID` (400, with `param`) for fields Anthropic cannot honour or malformed input.
 * @example
 * openAIToAnthropicRequest({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }, { defaultMaxTokens: 4096 })
 * // → { model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }
 */
export function openAIToAnthropicRequest(req: OpenAIChatRequest, options: RequestTranslationOptions): AnthropicRequest {
  if (typeof req.model !== 'string' || req.model === '') throw invalid('`model` is required', 'model');
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw invalid('`messages` must be a non-empty array', 'messages');
  refuseUnsupported(req, UNSUPPORTED_WITHOUT_PENALTIES, 'Anthropic');

  const strings = options.strings ?? TEXT_STRINGS;
  const system: string[] = [];
  const messages: AnthropicMessageParam[] = [];
  req.messages.forEach((m, i) => translateMessage(m, i, system, messages, strings));
  for (const m of messages) if (m.role === 'user') toolResultsFirst(m);

  const instruction = responseFormatInstruction(req);
  if (instruction) system.push(instruction);

  const out: AnthropicRequest = { model: req.model, max_tokens: maxTokens(req, options), messages };
  if (system.length > 0) out.system = system.join('\n\n');
  if (req.temperature != null) {
    // Anthropic's range is 0..1; OpenAI's 0..2. Refuse rather than silently rescale.
    if (typeof req.temperature !== 'number' || req.temperature < 0 || req.temperature > 1) {
      throw invalid('`temperature` must be between 0 and 1 for Anthropic models', 'temperature');
    }
    out.temperature = req.temperature;
  }
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.stop != null) {
    const stops = typeof req.stop === 'string' ? [req.stop] : req.stop;
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string')) throw invalid('`stop` must be a string or an array of strings', 'stop');
    if (stops.length > 0) out.stop_sequences = stops;
  }
  if (req.stream === true) out.stream = true;
  translateTools(req, out);
  const user = typeof req.safety_identifier === 'string' ? req.safety_identifier : req.user;
  if (typeof user === 'string' && user !== '') out.metadata = { user_id: user };
  return out;
}

function maxTokens(req: OpenAIChatRequest, options: RequestTranslationOptions): number {
  // max_completion_tokens supersedes the deprecated max_tokens when both are sent.
  const field = req.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const value = req[field];
  if (value == null) return options.defaultMaxTokens;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(`\`${field}\` must be a positive integer`, field);
  return value;
}

function translateMessage(m: OpenAIMessage, i: number, system: string[], out: AnthropicMessageParam[], strings: BodyStrings): void {
  const at = `messages[${i}]`;
  if (m === null || typeof m !== 'object') throw invalid('each message must be an object', at);
  switch (m.role) {
    case 'system':
    case 'developer':
      for (const text of textsOf(m.content, `${at}.content`, strings)) if (text !== '') system.push(text);
      return;
    case 'user':
      return append(out, 'user', userBlocks(m.content, `${at}.content`, strings), `${at}.content`);
    case 'assistant': {
      const blocks: AnthropicRequestBlock[] = [];
      if (m.content != null) for (const text of textsOf(m.content, `${at}.content`, strings)) pushText(blocks, text);
      if (typeof m.refusal === 'string') pushText(blocks, m.refusal);
      toolCallsOf(m.tool_calls, at).forEach((call, j) => blocks.push(toolUse(call, `${at}.tool_calls[${j}]`, strings)));
      return append(out, 'assistant', blocks, `${at}.content`);
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') throw invalid('a tool message needs `tool_call_id`', `${at}.tool_call_id`);
      const content = typeof m.content === 'string' ? m.content : textsOf(m.content, `${at}.content`, strings).map((text): AnthropicTextBlock => ({ type: 'text', text }));
      return append(out, 'user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content }], `${at}.content`);
    }
    default:
      throw invalid(`message role \`${shown((m as { role?: unknown }).role, strings)}\` is not supported`, `${at}.role`);
  }
}

/** Add blocks as a new message, or to the previous one when it has the same role. */
function append(out: AnthropicMessageParam[], role: 'user' | 'assistant', blocks: AnthropicRequestBlock[], param: string): void {
  if (blocks.length === 0) throw invalid('message content must not be empty', param);
  const last = out[out.length - 1];
  if (last && last.role === role) appendAll(last.content, blocks);
  else out.push({ role, content: blocks });
}

function pushText(blocks: AnthropicRequestBlock[], text: string): void {
  // Anthropic rejects empty text blocks; OpenAI clients send "" beside tool calls.
  if (text !== '') blocks.push({ type: 'text', text });
}

function userBlocks(content: string | OpenAIContentPart[], param: string, strings: BodyStrings): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  if (typeof content === 'string') {
    pushText(blocks, content);
    return blocks;
  }
  if (!Array.isArray(content)) throw invalid('`content` must be a string or an array of content parts', param);
  content.forEach((part, j) => {
    if (part?.type === 'text' && typeof part.text === 'string') pushText(blocks, part.text);
    else if (part?.type === 'image_url') blocks.push(imageBlock(imageUrlOf(part, `${param}[${j}].image_url.url`), `${param}[${j}].image_url.url`, strings));
    else throw invalid(`content part type \`${shown(part?.type, strings)}\` is not supported for Anthropic models`, `${param}[${j}]`);
  });
  return blocks;
}

function imageBlock(url: string, param: string, strings: BodyStrings): AnthropicImageBlock {
  const data = parseDataUrl(url, param, strings);
  if (data) {
    if (!IMAGE_MEDIA_TYPES.has(data.mediaType)) throw invalid(`image type \`${strings.text(data.mediaType)}\` is not supported (jpeg, png, gif, webp)`, param);
    return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
  }
  if (url.startsWith('https://')) return { type: 'image', source: { type: 'url', url } };
  throw invalid('`image_url.url` must be an https URL or a base64 data URL', param);
}

function toolUse(call: { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } }, param: string, strings: BodyStrings): AnthropicRequestBlock {
  if (call?.type !== 'function' || typeof call.function?.name !== 'string') throw invalid('tool calls must be function calls with a name', param);
  if (typeof call.id !== 'string' || call.id === '') throw invalid('a tool call needs an `id`', `${param}.id`);
  return { type: 'tool_use', id: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `${param}.function.arguments`, strings) };
}

/** Anthropic wants a user turn's tool_result blocks before any other content. */
function toolResultsFirst(m: AnthropicMessageParam): void {
  const results = m.content.filter((b) => b.type === 'tool_result');
  if (results.length === 0 || results.length === m.content.length) return;
  m.content = [...results, ...m.content.filter((b) => b.type !== 'tool_result')];
}

function translateTools(req: OpenAIChatRequest, out: AnthropicRequest): void {
  const tools = req.tools ?? [];
  if (!Array.isArray(tools)) throw invalid('`tools` must be an array', 'tools');
  if (tools.length > 0) {
    out.tools = tools.map((tool, i): AnthropicTool => {
      if (tool?.type !== 'function' || typeof tool.function?.name !== 'string') {
        throw invalid('only `function` tools with a name are supported', `tools[${i}]`);
      }
      const { name, description, parameters } = tool.function;
      return {
        name,
        ...(description ? { description } : {}),
        // Anthropic requires an object schema even for tools without parameters.
        input_schema: parameters ?? { type: 'object', properties: {} },
      };
    });
  }
  const choice = toolChoice(req, tools.length > 0);
  if (choice) out.tool_choice = choice;
}

function toolChoice(req: OpenAIChatRequest, hasTools: boolean): AnthropicToolChoice | undefined {
  const c = req.tool_choice;
  const noParallel = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (!hasTools) {
    // 'auto'/'none' without tools is harmless and common; forcing a tool that does not exist is not.
    if (c === 'required' || (typeof c === 'object' && c !== null)) throw invalid('`tool_choice` requires `tools`', 'tool_choice');
    return undefined;
  }
  if (c == null) return req.parallel_tool_calls === false ? { type: 'auto', ...noParallel } : undefined;
  if (c === 'auto') return { type: 'auto', ...noParallel };
  if (c === 'none') return { type: 'none' };
  if (c === 'required') return { type: 'any', ...noParallel };
  if (typeof c === 'object' && c.type === 'function' && typeof c.function?.name === 'string') {
    return { type: 'tool', name: c.function.name, ...noParallel };
  }
  throw invalid('`tool_choice` must be auto, none, required or a named function', 'tool_choice');
}
