/**
 * Golden cases under test/fixtures/translate/openai-gemini/, by folder prefix:
 *   request-*   input.json (OpenAI request) → expected.json (Gemini body, or {"error": …})
 *   response-*  input.json (GenerateContentResponse) → expected.json ({body, usage})
 *   error-*     input.json ({status, headers, body}) → expected.json (translated error)
 *   stream-*    input.json (stream options) + upstream.sse → expected.sse + expected.json ({usage, streamError, model})
 * GOLDEN_UPDATE=1 rewrites the expected files (then review the diff).
 */
import t from 'tap';
import { GatewayError } from '../../../../core/errors.js';
import type { OpenAIChatRequest } from '../../../../providers/translate/openai-anthropic/openai-types.js';
import {
  GeminiToOpenAIStream,
  geminiErrorToOpenAI,
  geminiToOpenAIResponse,
  openAIToGeminiRequest,
  type GeminiResponse,
  type GeminiStreamOptions,
} from '../../../../providers/translate/openai-gemini/index.js';
import { fixtureSet, json } from '../../../helpers/translate-golden.js';

const fx = fixtureSet('openai-gemini');
const RESPONSE_OPTIONS = { id: 'chatcmpl-golden', created: 1750000000, model: 'gemini-2.5-flash' };

function requestOutcome(input: OpenAIChatRequest): unknown {
  try {
    return openAIToGeminiRequest(input);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { status: err.status, code: err.code, param: err.param ?? null, message: err.message } };
  }
}

t.test('request: OpenAI chat → Gemini generateContent', async (t) => {
  const dirs = fx.cases('request-');
  t.ok(dirs.length >= 15, 'request cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = fx.readJson<OpenAIChatRequest>(dir, 'input.json');
      const before = JSON.stringify(input);
      const out = requestOutcome(input);
      t.equal(JSON.stringify(input), before, 'the client request is not mutated');
      fx.golden(t, dir, 'expected.json', json(out));
    });
  }
});

t.test('response: Gemini answer → OpenAI chat.completion', async (t) => {
  const dirs = fx.cases('response-');
  t.ok(dirs.length >= 6, 'response cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      fx.golden(t, dir, 'expected.json', json(geminiToOpenAIResponse(fx.readJson<GeminiResponse>(dir, 'input.json'), RESPONSE_OPTIONS)));
    });
  }
});

t.test('error: Gemini error answer → OpenAI error', async (t) => {
  const dirs = fx.cases('error-');
  t.ok(dirs.length >= 8, 'error cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = fx.readJson<{ status: number; headers?: Record<string, string>; body: unknown }>(dir, 'input.json');
      fx.golden(t, dir, 'expected.json', json(geminiErrorToOpenAI(input.status, input.body, input.headers)));
    });
  }
});

t.test('stream: Gemini alt=sse → OpenAI chat.completion.chunk SSE', async (t) => {
  const dirs = fx.cases('stream-');
  t.ok(dirs.length >= 6, 'stream cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const translator = new GeminiToOpenAIStream(fx.readJson<GeminiStreamOptions>(dir, 'input.json'));
      const out = Buffer.concat([translator.write(fx.readBytes(dir, 'upstream.sse')), translator.end()]);
      fx.golden(t, dir, 'expected.sse', out);
      fx.golden(t, dir, 'expected.json', json({ usage: translator.usage, streamError: translator.streamError ?? null, model: translator.model ?? null }));
    });
  }
});
