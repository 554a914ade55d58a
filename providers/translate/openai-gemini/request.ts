/**
 * OpenAI Chat Completions request → Gemini `generateContent` body. Pure: no I/O, no clock.
 * The model goes in the URL path, not the body; streaming is the method (`:streamGenerateContent`).
 *
 * Choices worth knowing:
 * - `system` / `developer` messages, wherever they appear, join `systemInstruction`.
 * - Roles become `user` / `model`; consecutive turns of one role are merged (Gemini wants
 *   alternation); `tool` results become `functionResponse` parts of a user turn, named
 *   after the assistant tool call whose id they answer (Gemini matches by name and order).
 *   A result that is a JSON object is sent as the response; anything else as `{output}`.
 * - Tool schemas go as `parametersJsonSchema`, i.e. full JSON Schema, unchanged.
 * - A tool call's `extra_content.google.thought_signature` (what the translator emits,
 *   as Google's own OpenAI-compatible endpoint does) goes back as `thoughtSignature`.
 * - Images: data URLs become `inlineData`; `https` URLs become `fileData` with the MIME type
 *   guessed from the file extension (Gemini requires one, and the gateway never fetches a
 *   URL); an extension that names no image type is a 400 asking for a data URL instead.
 * - `response_format` uses Gemini's JSON mode (`responseMimeType`, `responseJsonSchema`).
 * - `reasoning_effort` becomes a thinking budget, as Google's own OpenAI-compatible endpoint
 *   maps it (none → 0, minimal and low → 1,024, medium → 8,192, high → 24,576): a budget
 *   is understood by Gemini 2.5 and 3 alike, where a thinking level is 3's alone.
 * - `n` > 1, logprobs, audio and other output-changing fields Gemini cannot honour are 400s.
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
  UNSUPPORTED_ANYWHERE,
  stopList,
  textsOf,
  toolArguments,
  toolChoiceOf,
  toolCallsOf,
  appendAll,
} from '../openai-request-parts.js';
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest } from './gemini-types.js';

/** Image types Gemini reads, by file extension, for `https` image URLs. */
const IMAGE_EXTENSIONS: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  gif: 'image/gif',
};

/** A tool call as clients send it back, with the signature the translator attached. */
type ToolCallIn = OpenAIToolCall & { extra_content?: { google?: { thought_signature?: unknown } } };

/**
 * Translate an OpenAI chat request into a Gemini `generateContent` body.
 * `strings` says how the request's strings are held (core's `BodyStrings`); the body built
 * holds them the same way.
 * @throws GatewayError `GW_ERR_REQUEST_INVALID` (400, with `param`) for fields Gemini cannot honour or malformed input.
 * @example
 * openAIToGeminiRequest({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
 * // → { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }
 */
export function openAIToGeminiRequest(req: OpenAIChatRequest, strings: BodyStrings = TEXT_STRINGS): GeminiRequest {
  checkBasics(req);
  refuseUnsupported(req, UNSUPPORTED_ANYWHERE, 'Gemini');
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const names = new Map<string, string>(); // tool call id → function name
  req.messages.forEach((m, i) => translateMessage(m, `messages[${i}]`, system, contents, names, strings));

  const out: GeminiRequest = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const tools = functionTools(req);
  if (tools.length > 0) {
    out.tools = [{ functionDeclarations: tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parametersJsonSchema: t.parameters } : {}) })) }];
  }
  const choice = toolChoiceOf(req, tools.length > 0);
  if (choice) {
    const mode = choice.kind === 'auto' ? 'AUTO' : choice.kind === 'none' ? 'NONE' : 'ANY';
    out.toolConfig = { functionCallingConfig: { mode, ...(choice.kind === 'named' ? { allowedFunctionNames: [choice.name] } : {}) } };
  }
  const config = generationConfig(req);
  if (Object.keys(config).length > 0) out.generationConfig = config;
  return out;
}

function generationConfig(req: OpenAIChatRequest): GeminiGenerationConfig {
  const c: GeminiGenerationConfig = {};
  const set = <K extends keyof GeminiGenerationConfig>(k: K, v: GeminiGenerationConfig[K] | undefined): void => {
    if (v !== undefined) c[k] = v;
  };
  set('temperature', numberOf(req, 'temperature'));
  set('topP', numberOf(req, 'top_p'));
  set('maxOutputTokens', maxTokensOf(req));
  const stops = stopList(req);
  if (stops.length > 0) c.stopSequences = stops;
  set('presencePenalty', numberOf(req, 'presence_penalty'));
  set('frequencyPenalty', numberOf(req, 'frequency_penalty'));
  set('seed', numberOf(req, 'seed'));
  const budget = thinkingBudget(req.reasoning_effort);
  if (budget !== undefined) c.thinkingConfig = { thinkingBudget: budget };
  const f = req.response_format;
  if (f != null && f.type !== 'text') {
    if (f.type === 'json_object') c.responseMimeType = 'application/json';
    else if (f.type === 'json_schema' && typeof f.json_schema?.name === 'string') {
      c.responseMimeType = 'application/json';
      c.responseJsonSchema = f.json_schema.schema ?? { type: 'object' };
    } else throw invalid('`response_format.type` must be text, json_object or json_schema (with a name)', 'response_format');
  }
  return c;
}

/** Thinking tokens for each OpenAI `reasoning_effort`. */
const THINKING_BUDGETS: ReadonlyMap<unknown, number> = new Map([['none', 0], ['minimal', 1024], ['low', 1024], ['medium', 8192], ['high', 24_576]]);

function thinkingBudget(effort: unknown): number | undefined {
  if (effort === undefined || effort === null) return undefined;
  const budget = THINKING_BUDGETS.get(effort);
  if (budget === undefined) throw invalid('`reasoning_effort` must be one of none, minimal, low, medium, high', 'reasoning_effort');
  return budget;
}

function translateMessage(m: OpenAIMessage, at: string, system: GeminiPart[], out: GeminiContent[], names: Map<string, string>, strings: BodyStrings): void {
  if (m === null || typeof m !== 'object') throw invalid('each message must be an object', at);
  switch (m.role) {
    case 'system':
    case 'developer':
      for (const text of textsOf(m.content, `${at}.content`, strings)) if (text !== '') system.push({ text });
      return;
    case 'user':
      return append(out, 'user', userParts(m.content, `${at}.content`, strings), `${at}.content`);
    case 'assistant': {
      const parts: GeminiPart[] = [];
      if (m.content != null) for (const text of textsOf(m.content, `${at}.content`, strings)) if (text !== '') parts.push({ text });
      if (typeof m.refusal === 'string' && m.refusal !== '') parts.push({ text: m.refusal });
      toolCallsOf(m.tool_calls, at).forEach((call, j) => parts.push(functionCall(call as ToolCallIn, `${at}.tool_calls[${j}]`, names, strings)));
      return append(out, 'model', parts, `${at}.content`);
    }
    case 'tool': {
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') throw invalid('a tool message needs `tool_call_id`', `${at}.tool_call_id`);
      const name = names.get(m.tool_call_id);
      if (name === undefined) throw invalid(`no earlier assistant tool call has the id \`${strings.text(m.tool_call_id)}\` (Gemini needs the function's name)`, `${at}.tool_call_id`);
      const text = textsOf(m.content, `${at}.content`, strings).join('');
      return append(out, 'user', [{ functionResponse: { name, response: responseObject(text, strings) } }], `${at}.content`);
    }
    default:
      throw invalid(`message role \`${shown((m as { role?: unknown }).role, strings)}\` is not supported`, `${at}.role`);
  }
}

/** Add parts as a new turn, or to the previous one when it has the same role. */
function append(out: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[], param: string): void {
  if (parts.length === 0) throw invalid('message content must not be empty', param);
  const last = out[out.length - 1];
  if (last && last.role === role) appendAll(last.parts, parts);
  else out.push({ role, parts });
}

function responseObject(text: string, strings: BodyStrings): Record<string, unknown> {
  try {
    const parsed: unknown = strings.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // plain text: wrapped below
  }
  // Gemini reads the `output` key as the function's output.
  return { output: text };
}

function functionCall(call: ToolCallIn, param: string, names: Map<string, string>, strings: BodyStrings): GeminiPart {
  if (call?.type !== 'function' || typeof call.function?.name !== 'string') throw invalid('tool calls must be function calls with a name', param);
  if (typeof call.id !== 'string' || call.id === '') throw invalid('a tool call needs an `id`', `${param}.id`);
  names.set(call.id, call.function.name);
  const part: GeminiPart = { functionCall: { name: call.function.name, args: toolArguments(call.function.arguments, `${param}.function.arguments`, strings) } };
  const signature = call.extra_content?.google?.thought_signature;
  if (typeof signature === 'string' && signature !== '') part.thoughtSignature = signature;
  return part;
}

function userParts(content: string | OpenAIContentPart[], param: string, strings: BodyStrings): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalid('`content` must be a string or an array of content parts', param);
  const parts: GeminiPart[] = [];
  content.forEach((part, j) => {
    if (part?.type === 'text' && typeof part.text === 'string') {
      if (part.text !== '') parts.push({ text: part.text });
    } else if (part?.type === 'image_url') parts.push(imagePart(imageUrlOf(part, `${param}[${j}].image_url.url`), `${param}[${j}].image_url.url`, strings));
    else throw invalid(`content part type \`${shown(part?.type, strings)}\` is not supported for Gemini models`, `${param}[${j}]`);
  });
  return parts;
}

function imagePart(url: string, param: string, strings: BodyStrings): GeminiPart {
  const data = parseDataUrl(url, param, strings);
  if (data) {
    if (!data.mediaType.startsWith('image/')) throw invalid(`\`${strings.text(data.mediaType)}\` is not an image type`, param);
    return { inlineData: { mimeType: data.mediaType, data: data.data } };
  }
  if (!url.startsWith('https://')) throw invalid('`image_url.url` must be an https URL or a base64 data URL', param);
  let ext = '';
  try {
    // Parsed as text: a host outside ASCII goes through IDNA, which bytes would fail.
    ext = /\.([a-z0-9]+)$/i.exec(new URL(strings.text(url)).pathname)?.[1]?.toLowerCase() ?? '';
  } catch {
    throw invalid('`image_url.url` is not a valid URL', param);
  }
  const mimeType = IMAGE_EXTENSIONS[ext];
  if (!mimeType) {
    throw invalid(`Gemini needs the image's type, which cannot be told from this URL (no .png, .jpg, .jpeg, .webp, .heic, .heif or .gif extension); send the image as a base64 data URL`, param);
  }
  return { fileData: { mimeType, fileUri: url } };
}
