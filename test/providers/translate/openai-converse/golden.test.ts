/**
 * Golden cases under test/fixtures/translate/openai-converse/, by folder prefix:
 *   request-*   input.json (OpenAI request) [options.json] → expected.json (Converse body, or {"error": …})
 *   response-*  input.json (Converse answer) → expected.json ({body, usage})
 *   error-*     input.json ({status, headers, body}) → expected.json (translated error)
 *   stream-*    input.json (stream options) + upstream.events.json (decoded ConverseStream
 *               events, one per frame) → expected.sse + expected.json ({usage, streamError, model})
 * GOLDEN_UPDATE=1 rewrites the expected files (then review the diff).
 */
import t from 'tap';
import { GatewayError } from '../../../../core/errors.js';
import type { OpenAIChatRequest } from '../../../../providers/translate/openai-anthropic/openai-types.js';
import {
  ConverseToOpenAIStream,
  converseErrorToOpenAI,
  converseToOpenAIResponse,
  openAIToConverseRequest,
  type ConverseRequestOptions,
  type ConverseResponse,
  type ConverseStreamEvent,
  type ConverseStreamOptions,
} from '../../../../providers/translate/openai-converse/index.js';
import { fixtureSet, json } from '../../../helpers/translate-golden.js';

const fx = fixtureSet('openai-converse');
const RESPONSE_OPTIONS = { id: 'chatcmpl-golden', created: 1750000000, model: 'anthropic.claude-3-5-sonnet-20241022-v2:0' };

function requestOutcome(input: OpenAIChatRequest, options: ConverseRequestOptions): unknown {
  try {
    return openAIToConverseRequest(input, options);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { status: err.status, code: err.code, param: err.param ?? null, message: err.message } };
  }
}

t.test('request: OpenAI chat → Converse', async (t) => {
  const dirs = fx.cases('request-');
  t.ok(dirs.length >= 12, 'request cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = fx.readJson<OpenAIChatRequest>(dir, 'input.json');
      const before = JSON.stringify(input);
      const out = requestOutcome(input, fx.readOptional<ConverseRequestOptions>(dir, 'options.json', {}));
      t.equal(JSON.stringify(input), before, 'the client request is not mutated');
      fx.golden(t, dir, 'expected.json', json(out));
    });
  }
});

t.test('response: Converse answer → OpenAI chat.completion', async (t) => {
  const dirs = fx.cases('response-');
  t.ok(dirs.length >= 5, 'response cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      fx.golden(t, dir, 'expected.json', json(converseToOpenAIResponse(fx.readJson<ConverseResponse>(dir, 'input.json'), RESPONSE_OPTIONS)));
    });
  }
});

t.test('error: Bedrock error answer → OpenAI error', async (t) => {
  const dirs = fx.cases('error-');
  t.ok(dirs.length >= 8, 'error cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = fx.readJson<{ status: number; headers?: Record<string, string>; body: unknown }>(dir, 'input.json');
      fx.golden(t, dir, 'expected.json', json(converseErrorToOpenAI(input.status, input.body, input.headers)));
    });
  }
});

t.test('stream: decoded ConverseStream events → OpenAI chat.completion.chunk SSE', async (t) => {
  const dirs = fx.cases('stream-');
  t.ok(dirs.length >= 6, 'stream cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const translator = new ConverseToOpenAIStream(fx.readJson<ConverseStreamOptions>(dir, 'input.json'));
      const events = fx.readJson<ConverseStreamEvent[]>(dir, 'upstream.events.json');
      const out = Buffer.concat([...events.map((e) => translator.push(e)), translator.end()]);
      fx.golden(t, dir, 'expected.sse', out);
      fx.golden(t, dir, 'expected.json', json({ usage: translator.usage, streamError: translator.streamError ?? null, model: translator.model }));
    });
  }
});
