/**
 * A stream the gateway ends itself (the upstream went silent past `idle_ms`) reaches the
 * real AWS SDK as an exception the stream's own union declares: ModelTimeoutException on
 * InvokeModelWithResponseStream, and on ConverseStream — which has no ModelTimeoutException
 * — InternalServerException, not a bare `Error` holding the frame's JSON.
 */
import { ConverseStreamCommand, InternalServerException, InvokeModelWithResponseStreamCommand, ModelTimeoutException } from '@aws-sdk/client-bedrock-runtime';
import t from 'tap';
import { anthropicBody, SONNET, sdkClient, startBedrock } from '../../helpers/bedrock.js';

const { mock, endpoint } = await startBedrock(t, { providerYaml: '    resilience: { timeouts: { idle_ms: 300 } }' });
const client = sdkClient(t, endpoint, 'h1');

/** Hold every stream after its first two frames until the test ends. */
let release!: () => void;
mock.streamGate = { after: 2, release: new Promise<void>((r) => (release = r)) };
t.teardown(() => release());

async function drain(parts: AsyncIterable<object>): Promise<{ seen: number; err: unknown }> {
  let seen = 0;
  try {
    for await (const _ of parts) seen++;
  } catch (err) {
    return { seen, err };
  }
  return { seen, err: undefined };
}

t.test('InvokeModelWithResponseStream: ModelTimeoutException', async (t) => {
  const res = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: SONNET, body: anthropicBody() }));
  const { seen, err } = await drain(res.body!);
  t.equal(seen, 2, 'the frames before the silence arrive');
  t.ok(err instanceof ModelTimeoutException, 'the SDK raises ModelTimeoutException');
  t.match((err as Error).message, /went silent/);
});

t.test('ConverseStream: InternalServerException, with the message as its message', async (t) => {
  const res = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }));
  const { seen, err } = await drain(res.stream!);
  t.equal(seen, 2, 'the events before the silence arrive');
  t.ok(err instanceof InternalServerException, `the SDK raises a declared exception (got ${(err as Error)?.name})`);
  t.match((err as Error).message, /^Upstream stream went silent/, 'a plain message, not the frame JSON');
});
