/**
 * OpenAI Chat Completions request → Bedrock Converse request. Pure: no I/O, no clock.
 * The model id goes in the URL path (`/model/{modelId}/converse`), not the body.
 *
 * Choices worth knowing:
 * - `system` / `developer` messages, wherever they appear, become `system` text blocks.
 * - Consecutive turns of one role are merged (Converse wants alternation); `tool` results
 *   become `toolResult` blocks of a user turn, put first in it as Anthropic models require.
 * - Images must be bytes: base64 data URLs (png, jpeg, gif, webp) only. Remote URLs are a
 *   400 — Converse takes no URLs and the gateway never fetches one.
 * - `tool_choice: "none"` has no Converse form: without tool calls in the history the
 *   tools are left out; with them (Converse then requires `toolConfig`) it is a 400.
 * - `response_format` becomes an instruction in `system` (Converse has no JSON mode).
 * - Output-changing fields Converse cannot honour (`n` > 1, logprobs, penalties, …) are
 *   400s naming the field; OpenAI-side tuning (`seed`, `store`, …) is dropped.
 */
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../openai-anthropic/openai-types.js';
import { TEXT_STRINGS, type BodyStrings } from '../../../core/json-body.js';
import {
  checkBasics,
  functionTools,
  imageUrlOf,
  invalid,
  maxTokensOf,
  numberOf,
  parseDataUrl,
  refuseUnsupported,
  shown,
  UNSUPPORTED_WITHOUT_PENALTIES,
  responseFormatInstruction,
  stopList,
  textsOf,
  toolArguments,
  toolChoiceOf,
  toolCallsOf,
  appendAll,
} from '../openai-request-parts.js';
import type { ConverseImageBlock, ConverseMessage, ConverseRequest, ConverseRequestBlock } from './converse-types.js';

export interface ConverseRequestOptions {
  /** `maxTokens` sent when the client set none; omitted when undefined (the model's default applies). */
  readonly defaultMaxTokens?: number;
  /** How the request's strings are held (core's `BodyStrings`; text by default); the body built holds them the same way. */
  readonly strings?: BodyStrings;
}

const IMAGE_FORMATS: Readonly<Record<string, ConverseImageBlock['image']['format']>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/**
 * Translate an OpenAI chat request into a Converse body.
 * @throws GatewayError `GW_ERR_REQUEST_INVALID` (400, with `param`) for fields Converse cannot honour or malformed input.
 * @example
 * openAIToConverseRequest({ model: 'anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user', content: 'hi' }] })
 * // → { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }
 */
export function openAIToConverseRequest(req: OpenAIChatRequest, options: ConverseRequestOptions = {}): ConverseRequest {
  checkBasics(req);
  refuseUnsupported(req, UNSUPPORTED_WITHOUT_PENALTIES, 'Bedrock Converse');
  const strings = options.strings ?? TEXT_STRINGS;
  const system: Array<{ text: string }> = [];
  const messages: ConverseMessage[] = [];
  req.messages.forEach((m, i) => translateMessage(m, `messages[${i}]`, system, messages, strings));
  for (const m of messages) if (m.role === 'user') toolResultsFirst(m);
  const instruction = responseFormatInstruction(req);
  if (instruction) system.push({ text: instruction });

  const out: ConverseRequest = { messages };
  if (system.length > 0) out.system = system;
  const inference: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = maxTokensOf(req) ?? options.defaultMaxTokens;
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  const temperature = numberOf(req, 'temperature');
  if (temperature !== undefined) inference.temperature = temperature;
  const topP = numberOf(req, 'top_p');
  if (topP !== undefined) inference.topP = topP;
  const stops = stopList(req);
  if (stops.length > 0) inference.stopSequences = stops;
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  translateTools(req, out);
  return out;
}

function translateMessage(m: OpenAIMessage, at: string, system: Array<{ text: string }>, out: ConverseMessage[], strings: BodyStrings): void {
  if (m === null || typeof m !== 'object') throw invalid('each message must be an object', at);
  switch (m.role) {
    case 'system':
    case 'developer':
      for (const text of textsOf(m.content, `${at}.content`, strings)) if (text !== '') system.push({ text });
      return;
    case 'user':
      return append(out, 'user', userBlocks(m.content, `${at}.content`, strings), `${at}.content`);
    case 'assistant': {
      const blocks: ConverseRequestBlock[] = [];
      if (m.content != null) for (const text of textsOf(m.content, `${at}.content`, strings)) if (text !== '') blocks.push({ text });
      if (typeof m.refusal === 'string' && m.refusal !== '') blocks.push({ text: m.refusal });
      toolCallsOf(m.tool_calls, at).forEach((call, j) => blocks.push(toolUse(call, `${at}.tool_calls[${j}]`, strings)));
      return append(out, 'assistant', blocks, `${at}.content`);
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') throw invalid('a tool message needs `tool_call_id`', `${at}.tool_call_id`);
      const text = textsOf(m.content, `${at}.content`, strings).join('');
      return append(out, 'user', [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text }] } }], `${at}.content`);
    }
    default:
      throw invalid(`message role \`${shown((m as { role?: unknown }).role, strings)}\` is not supported`, `${at}.role`);
  }
}

function append(out: ConverseMessage[], role: 'user' | 'assistant', blocks: ConverseRequestBlock[], param: string): void {
  if (blocks.length === 0) throw invalid('message content must not be empty', param);
  const last = out[out.length - 1];
  if (last && last.role === role) appendAll(last.content, blocks);
  else out.push({ role, content: blocks });
}

function toolResultsFirst(m: ConverseMessage): void {
  const results = m.content.filter((b) => 'toolResult' in b);
  if (results.length === 0 || results.length === m.content.length) return;
  m.content = [...results, ...m.content.filter((b) => !('toolResult' in b))];
}

function toolUse(call: OpenAIToolCall, param: string, strings: BodyStrings): ConverseRequestBlock {
  if (call?.type !== 'function' || typeof call.function?.name !== 'string') throw invalid('tool calls must be function calls with a name', param);
  if (typeof call.id !== 'string' || call.id === '') throw invalid('a tool call needs an `id`', `${param}.id`);
  return { toolUse: { toolUseId: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `${param}.function.arguments`, strings) } };
}

function userBlocks(content: string | OpenAIContentPart[], param: string, strings: BodyStrings): ConverseRequestBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalid('`content` must be a string or an array of content parts', param);
  const blocks: ConverseRequestBlock[] = [];
  content.forEach((part, j) => {
    if (part?.type === 'text' && typeof part.text === 'string') {
      if (part.text !== '') blocks.push({ text: part.text });
    } else if (part?.type === 'image_url') blocks.push(imageBlock(imageUrlOf(part, `${param}[${j}].image_url.url`), `${param}[${j}].image_url.url`, strings));
    else throw invalid(`content part type \`${shown(part?.type, strings)}\` is not supported for Bedrock Converse models`, `${param}[${j}]`);
  });
  return blocks;
}

function imageBlock(url: string, param: string, strings: BodyStrings): ConverseImageBlock {
  const data = parseDataUrl(url, param, strings);
  if (!data) throw invalid('Bedrock needs the image bytes: send the image as a base64 data URL (`data:image/png;base64,…`); remote image URLs are not supported', param);
  const format = IMAGE_FORMATS[data.mediaType];
  if (!format) throw invalid(`image type \`${strings.text(data.mediaType)}\` is not supported (png, jpeg, gif, webp)`, param);
  return { image: { format, source: { bytes: data.data } } };
}

function translateTools(req: OpenAIChatRequest, out: ConverseRequest): void {
  const tools = functionTools(req);
  const choice = toolChoiceOf(req, tools.length > 0);
  if (tools.length === 0) return;
  if (choice?.kind === 'none') {
    const history = out.messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b));
    if (history) throw invalid('`tool_choice: "none"` cannot be expressed in Bedrock Converse once the conversation has tool calls; use "auto"', 'tool_choice');
    return;
  }
  out.toolConfig = {
    // Converse requires a JSON schema even for tools without parameters.
    tools: tools.map((t) => ({ toolSpec: { name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } } } })),
  };
  if (choice?.kind === 'auto') out.toolConfig.toolChoice = { auto: {} };
  else if (choice?.kind === 'required') out.toolConfig.toolChoice = { any: {} };
  else if (choice?.kind === 'named') out.toolConfig.toolChoice = { tool: { name: choice.name } };
}
