/**
 * Blank strings where a number is expected. Schema validation coerces scalars so that
 * `${AI_GATEWAY_PORT}` (a string after interpolation) satisfies `type: integer`, but ajv
 * coerces a whitespace-only string (`RATE_LIMIT_RPM=" "`) to 0, which would silently make
 * a limit of 0. The blank strings are noted before validation; one the schema turned into
 * something else is an issue, worded like a type error, that names the variable it came from.
 */
import type { ConfigIssue, KeyPath, SourceMap } from './issues.js';

const BLANK = /^\s+$/;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)/g;

/** Paths (below `value`) of the non-empty, whitespace-only strings. Empty strings are not coerced to numbers. */
export function blankStrings(value: unknown, at: Array<string | number> = [], out: KeyPath[] = []): KeyPath[] {
  if (typeof value === 'string') {
    if (BLANK.test(value)) out.push([...at]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => blankStrings(v, [...at, i], out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) blankStrings(v, [...at, k], out);
  }
  return out;
}

/**
 * Issues for the blank strings (from {@link blankStrings}, relative to `value`) that
 * validation turned into numbers, with `base` the path of `value` in the config.
 */
export function coercedBlanks(value: unknown, blanks: readonly KeyPath[], base: KeyPath, source: SourceMap): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const path of blanks) {
    if (typeof valueAt(value, path) !== 'number') continue;
    const full = [...base, ...path];
    const names = [...(source.sourceText(full) ?? '').matchAll(REFERENCE)].map((m) => m[1]);
    const what = names.length > 0 ? `${names.join(', ')} is blank` : 'the value is blank';
    issues.push(source.issue(full, `must be a number; ${what} (only whitespace)`));
  }
  return issues;
}

function valueAt(value: unknown, path: KeyPath): unknown {
  let v = value;
  for (const part of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[part];
  }
  return v;
}

/** The blank-value issues, then the schema's own but those at the same keys (the 0 a blank became may also fail `minimum: 1`). */
export function withBlanks(blank: ConfigIssue[], schema: ConfigIssue[]): ConfigIssue[] {
  if (blank.length === 0) return schema;
  const paths = new Set(blank.map((i) => i.path));
  return [...blank, ...schema.filter((i) => !paths.has(i.path))];
}
