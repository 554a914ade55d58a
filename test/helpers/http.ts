/** Small HTTP client for tests: one call, whole body as text. */
import { request } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  const res = await request(url, {
    method: (init.method ?? (init.body !== undefined ? 'POST' : 'GET')) as 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** An Anthropic Messages request body. */
export function messages(text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'echo-1', max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra });
}
