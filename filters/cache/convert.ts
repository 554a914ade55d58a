/**
 * Converters between a dialect's JSON answer and its event stream. With one, the cache
 * keeps one entry per request whatever its `stream` flag and serves either mode from it;
 * a dialect without one keeps streamed and JSON entries apart (the flag joins the key).
 */
import { anthropicConverter } from './anthropic-convert.js';

/** Converts a complete answer between its two wire forms; undefined means "not a complete answer". */
export interface ResponseConverter {
  toSse(json: Uint8Array): Buffer | undefined;
  toJson(sse: Uint8Array): Buffer | undefined;
}

/** One table, by dialect name. */
const CONVERTERS: Readonly<Record<string, ResponseConverter>> = { anthropic: anthropicConverter };

export function converterFor(dialect: string): ResponseConverter | undefined {
  return Object.hasOwn(CONVERTERS, dialect) ? CONVERTERS[dialect] : undefined;
}
