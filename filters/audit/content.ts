/**
 * Opt-in content logging (`log_content: true`): the prompt's and the completion's text,
 * truncated and passed through the configured secret patterns. Text is pulled from the
 * `text` / `content` / `system` / `prompt` strings of a JSON body or of each SSE `data:`
 * line, which covers the Anthropic, OpenAI and Gemini shapes without knowing them.
 */
import type { BodyObserver } from '../../core/index.js';

const TEXT_KEYS = new Set(['text', 'content', 'system', 'prompt', 'inputText', 'outputText', 'completion']);

/** Concatenate the text strings in a parsed JSON value. */
export function collectText(value: unknown, out: string[], key = '', depth = 0): void {
  if (depth > 32) return;
  if (typeof value === 'string') {
    if (TEXT_KEYS.has(key)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectText(v, out, key, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectText(v, out, k, depth + 1);
  }
}

export class Redactor {
  private readonly patterns: RegExp[];
  constructor(sources: readonly string[]) {
    this.patterns = sources.map((s) => new RegExp(s, 'g'));
  }
  apply(text: string): string {
    let out = text;
    for (const p of this.patterns) out = out.replace(p, '[REDACTED]');
    return out;
  }
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[truncated ${text.length - max} chars]` : text;
}

/** Keeps the first `max` bytes of a response body, for its text once it ends. */
export class BodyCapture implements BodyObserver {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  onData(chunk: Uint8Array): void {
    if (this.size >= this.max) return;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, this.max - this.size));
    this.chunks.push(Buffer.from(b));
    this.size += b.length;
  }
  onEnd(): void {}
  text(): string {
    const raw = Buffer.concat(this.chunks).toString('utf8');
    const out: string[] = [];
    const trimmed = raw.trimStart();
    if (trimmed.startsWith('{')) {
      try {
        collectText(JSON.parse(raw), out);
        return out.join('');
      } catch {
        // a truncated JSON body: fall through to the raw-lines reading below
      }
    }
    for (const line of raw.split('\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        collectText(JSON.parse(line.slice(5)), out);
      } catch {
        // partial or non-JSON event
      }
    }
    return out.join('');
  }
}
