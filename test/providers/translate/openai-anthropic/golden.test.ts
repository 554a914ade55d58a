import t from 'tap';

/** The assertions a subtest offers (tap's Test type without importing its internals). */
type Assert = Pick<typeof t, 'equal'>;
import { GatewayError } from '../../../../core/errors.js';
import {
  AnthropicToOpenAIStream,
  anthropicErrorToOpenAI,
  anthropicToOpenAIResponse,
  openAIToAnthropicRequest,
  type AnthropicMessage,
  type OpenAIChatRequest,
  type RequestTranslationOptions,
  type ResponseTranslationOptions,
  type StreamTranslationOptions,
} from '../../../../providers/translate/openai-anthropic/index.js';
import { UPDATE, cases, json, readBytes, readJson, readOptional, writeGolden } from '../../../helpers/translate-golden.js';

const REQUEST_OPTIONS: RequestTranslationOptions = { defaultMaxTokens: 4096 };
const RESPONSE_OPTIONS: ResponseTranslationOptions = { id: 'chatcmpl-golden', created: 1750000000 };

/** Compare against expected.json, or rewrite it in update mode. */
function golden(t: Assert, dir: string, file: string, actual: string | Buffer): void {
  if (UPDATE) return writeGolden(dir, file, actual);
  const expected = readBytes(dir, file).toString('utf8');
  t.equal(actual.toString(), expected, `${dir}/${file}`);
}

function requestOutcome(input: OpenAIChatRequest, options: RequestTranslationOptions): unknown {
  try {
    return openAIToAnthropicRequest(input, options);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { error: { status: err.status, code: err.code, param: err.param ?? null, message: err.message } };
  }
}

t.test('request: OpenAI chat → Anthropic Messages', async (t) => {
  const dirs = cases('request-');
  t.ok(dirs.length >= 10, 'request cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = readJson<OpenAIChatRequest>(dir, 'input.json');
      const before = JSON.stringify(input);
      const out = requestOutcome(input, readOptional(dir, 'options.json', REQUEST_OPTIONS));
      t.equal(JSON.stringify(input), before, 'the client request is not mutated');
      golden(t, dir, 'expected.json', json(out));
    });
  }
});

t.test('response: Anthropic message → OpenAI chat.completion', async (t) => {
  const dirs = cases('response-');
  t.ok(dirs.length >= 5, 'response cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const out = anthropicToOpenAIResponse(readJson<AnthropicMessage>(dir, 'input.json'), readOptional(dir, 'options.json', RESPONSE_OPTIONS));
      golden(t, dir, 'expected.json', json(out));
    });
  }
});

t.test('error: Anthropic error response → OpenAI error', async (t) => {
  const dirs = cases('error-');
  t.ok(dirs.length >= 5, 'error cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const input = readJson<{ status: number; headers?: Record<string, string>; body: unknown }>(dir, 'input.json');
      golden(t, dir, 'expected.json', json(anthropicErrorToOpenAI(input.status, input.body, input.headers)));
    });
  }
});

t.test('stream: Anthropic SSE → OpenAI chat.completion.chunk SSE', async (t) => {
  const dirs = cases('stream-');
  t.ok(dirs.length >= 5, 'stream cases are present');
  for (const dir of dirs) {
    t.test(dir, async (t) => {
      const translator = new AnthropicToOpenAIStream(readJson<StreamTranslationOptions>(dir, 'input.json'));
      const upstream = readBytes(dir, 'upstream.sse');
      const out = Buffer.concat([translator.write(upstream), translator.end()]);
      golden(t, dir, 'expected.sse', out);
      const meter = { usage: translator.usage, streamError: translator.streamError ?? null, model: translator.model ?? null };
      golden(t, dir, 'expected.json', json(meter));
    });
  }
});
