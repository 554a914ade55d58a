/**
 * One scripted HTTP upstream standing in for Anthropic, Gemini and Bedrock at once, and a
 * gateway whose three translated providers all point at it: for unified-endpoint tests of
 * what the gateway makes of an upstream's answer, whichever provider gave it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type TestGateway } from './gateway.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts `answer` as the upstream (after the request body is read), then the gateway with `extraYaml` after its providers. */
export async function translatedUpstream(t: Teardown, answer: (res: http.ServerResponse) => void, extraYaml = ''): Promise<TestGateway> {
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  return startGateway(t, `
providers:
  anthropic:
    api_key: sk-ant-gateway-0000000000000000
    base_url: ${base}
  gemini:
    api_key: AIza-gateway-key-0000000000000000
    base_url: ${base}
  bedrock:
    region: us-east-1
    base_url: ${base}
    access_key_id: AKIAGATEWAYEXAMPLE01
    secret_access_key: gateway/secret+key/0000000000000000000000
${extraYaml}`);
}
