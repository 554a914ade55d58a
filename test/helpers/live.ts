/**
 * Helpers for the live-operations tests: waiting on a condition, reading a metric, and
 * talking HTTP/2 to a gateway with node:http2.
 */
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `check` every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, everyMs = 2): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** A sample's value from Prometheus text, e.g. `metric(text, 'gateway_config_loads_total{result="failure"}')`; 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** An Anthropic Messages body for the echo provider. */
export function messages(text: string, stream = false): string {
  return JSON.stringify({ model: 'echo-1', max_tokens: 64, stream, messages: [{ role: 'user', content: text }] });
}

export interface H2Response {
  headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  body: string;
  /** Milliseconds from the request to each data chunk, to see a stream arrive piece by piece. */
  chunkTimes: number[];
}

/** One request on an open HTTP/2 session, body collected. */
export function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string, onChunk?: (chunk: string) => void): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = session.request(headers);
    let responseHeaders: H2Response['headers'] | undefined;
    const chunks: string[] = [];
    const chunkTimes: number[] = [];
    req.setEncoding('utf8');
    req.on('response', (h) => (responseHeaders = h));
    req.on('data', (chunk: string) => {
      chunks.push(chunk);
      chunkTimes.push(performance.now() - started);
      onChunk?.(chunk);
    });
    req.on('end', () => resolve({ headers: responseHeaders!, body: chunks.join(''), chunkTimes }));
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of every `text_delta` in an Anthropic SSE stream, joined. */
export function streamedText(sse: string): string {
  let out = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = JSON.parse(line.slice(6)) as { type?: string; delta?: { type?: string; text?: string } };
    if (data.type === 'content_block_delta' && data.delta?.type === 'text_delta') out += data.delta.text ?? '';
  }
  return out;
}
