/**
 * Token counting for the Bedrock mock (`bedrock-mock.ts`): the Runtime's CountTokens
 * (`POST /model/{id}/count-tokens`, `{ input: { converse | invokeModel: { body: <base64> } } }`)
 * and bedrock-mantle's Anthropic `count_tokens`. A Converse input counts
 * {@link MOCK_COUNTED_TOKENS}; an InvokeModel body is decoded and held to what InvokeModel
 * asks of a Claude body (the Runtime's `anthropic_version`, a `max_tokens`, no `model`, betas
 * as an `anthropic_beta` list), and
 * it and an Anthropic body count {@link textTokens}, so a test can tell its prompt arrived.
 * A model id holding `unknown` is refused as Bedrock refuses an invalid one, and an
 * inference profile (its id or ARN) as CountTokens refuses one: it counts foundation models.
 */

/** What CountTokens answers for a Converse input. */
export const MOCK_COUNTED_TOKENS = 17;

/** An answer for the mock to write: a JSON body, or an error (`type` is the exception or Anthropic's error type). */
export type CountAnswer = { status: 200; body: unknown } | { status: number; type: string; message: string };

type Json = Record<string, unknown>;

function object(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => (typeof object(b)?.text === 'string' ? (object(b)!.text as string) : '')).join('');
}

/**
 * A quarter of the characters of a Claude request's text (its `system` and each message's
 * text), rounded up: deterministic, and different for different prompts.
 */
export function textTokens(request: Json): number {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const chars = textOf(request.system).length + messages.reduce((n: number, m) => n + textOf(object(m)?.content).length, 0);
  return Math.ceil(chars / 4);
}

const VALIDATION = 'ValidationException';
/** A system-defined cross-region profile's id, or any profile's ARN. */
const PROFILE = /^(?:us|eu|apac|us-gov|global|jp|au|ca)\.|:(?:application-)?inference-profile\//;

function parse(text: string): Json | undefined {
  try {
    return object(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** CountTokens on the Runtime. */
export function runtimeCount(modelId: string, body: Buffer): CountAnswer {
  if (modelId.includes('unknown')) return { status: 400, type: VALIDATION, message: 'The provided model identifier is invalid.' };
  if (PROFILE.test(modelId)) return { status: 400, type: VALIDATION, message: "The provided model doesn't support counting tokens." };
  const input = object(parse(body.toString('utf8'))?.input);
  if (input?.converse !== undefined) return { status: 200, body: { inputTokens: MOCK_COUNTED_TOKENS } };
  const encoded = object(input?.invokeModel)?.body;
  if (typeof encoded !== 'string') return { status: 400, type: VALIDATION, message: 'Malformed input request, please reformat your input and try again.' };
  const request = parse(Buffer.from(encoded, 'base64').toString('utf8'));
  if (!request) return { status: 400, type: VALIDATION, message: 'Malformed input request, please reformat your input and try again.' };
  if (modelId.includes('anthropic.')) {
    if ('model' in request) return { status: 400, type: VALIDATION, message: 'Malformed input request: #: extraneous key [model] is not permitted, please reformat your input and try again.' };
    if (request.anthropic_version !== 'bedrock-2023-05-31') return { status: 400, type: VALIDATION, message: 'Malformed input request: #: required key [anthropic_version] not found' };
    if (typeof request.max_tokens !== 'number') return { status: 400, type: VALIDATION, message: 'Malformed input request: #: required key [max_tokens] not found' };
    // Betas ride in the body as a list of strings; the header is not read here.
    if (request.anthropic_beta !== undefined && !(Array.isArray(request.anthropic_beta) && request.anthropic_beta.every((b) => typeof b === 'string'))) return { status: 400, type: VALIDATION, message: 'Malformed input request: #/anthropic_beta: expected type: JSONArray of strings, please reformat your input and try again.' };
  }
  return { status: 200, body: { inputTokens: textTokens(request) } };
}

/** Anthropic's count_tokens as bedrock-mantle serves it: the version header required, the model in the body. */
export function mantleCount(version: string | string[] | undefined, body: Buffer): CountAnswer {
  if (version === undefined) return { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' };
  const request = parse(body.toString('utf8'));
  if (!request) return { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' };
  if (typeof request.model !== 'string') return { status: 400, type: 'invalid_request_error', message: 'model: Field required' };
  return { status: 200, body: { input_tokens: textTokens(request) } };
}
