/**
 * Config errors that name the file, the line and the key path, so `ai-gateway validate`
 * and a failed reload say exactly what to fix.
 */
import type { ErrorObject } from 'ajv';
import { isMap, isNode, isPair, isScalar, isSeq, type Document, type LineCounter } from '../deps/yaml.js';

export interface ConfigIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path, e.g. `providers.anthropic.base_url` or `filters[2].config`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  /** The config as far as it parsed, when only the schema failed: lets `validate` check plugins too. */
  readonly partial: unknown;
  constructor(issues: ConfigIssue[], partial?: unknown) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
    this.partial = partial;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  return `${where}: ${issue.path ? issue.path + ': ' : ''}${issue.message}`;
}

export type KeyPath = ReadonlyArray<string | number>;

export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/** Source positions for key paths in one parsed document. */
export class SourceMap {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Position of the value at `path`, or of the key `childKey` inside it; falls back to the nearest ancestor. */
  locate(path: KeyPath, childKey?: string): { line: number; col: number } | undefined {
    let parts = [...path];
    if (childKey !== undefined) {
      const parent = this.doc.getIn(parts, true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === childKey);
        if (pair && isNode(pair.key) && pair.key.range) return this.lines.linePos(pair.key.range[0]);
      }
    }
    while (true) {
      const node = parts.length === 0 ? this.doc.contents : this.doc.getIn(parts, true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]);
      if (parts.length === 0) return undefined;
      parts = parts.slice(0, -1);
    }
  }

  /** The key path of the mapping key written at `offset` (yaml reports a duplicate key there). */
  keyPathAt(offset: number): KeyPath | undefined {
    return keyPathIn(this.doc.contents, offset, []);
  }

  /** The value at `path` as written in the file, before `${VAR}` interpolation. */
  sourceText(path: KeyPath): string | undefined {
    const node = this.doc.getIn([...path], true);
    return isScalar(node) ? node.source : undefined;
  }

  issue(path: KeyPath, message: string, childKey?: string): ConfigIssue {
    const pos = this.locate(path, childKey);
    const full = childKey === undefined ? path : [...path, childKey];
    return { file: this.file, line: pos?.line, column: pos?.col, path: formatPath(full), message };
  }

  /** Turn ajv errors for the object at `base` into issues. */
  fromAjv(base: KeyPath, errors: readonly ErrorObject[]): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    const seen = new Set<string>();
    for (const err of errors) {
      if (err.keyword === 'if') continue; // its branch error says it better
      const path = [...base, ...decodePointer(err.instancePath)];
      const issue = describeAjvError(this, path, err);
      const key = `${issue.path}|${issue.message}`;
      if (!seen.has(key)) out.push(issue), seen.add(key);
    }
    return out;
  }
}

function describeAjvError(map: SourceMap, path: KeyPath, err: ErrorObject): ConfigIssue {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return map.issue(path, `unknown key "${String(p.additionalProperty)}"`, String(p.additionalProperty));
    case 'required':
      return map.issue(path, `missing required key "${String(p.missingProperty)}"`);
    case 'enum':
      return map.issue(path, `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
    case 'type':
      return map.issue(path, `must be ${String(p.type)}`);
    default:
      return map.issue(path, err.message ?? 'is invalid');
  }
}

function decodePointer(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function keyPathIn(node: unknown, offset: number, path: Array<string | number>): KeyPath | undefined {
  const holds = (n: unknown): boolean => isNode(n) && n.range !== undefined && n.range !== null && n.range[0] <= offset && offset < n.range[2];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      if (isNode(pair.key) && pair.key.range?.[0] === offset) return [...path, key];
      if (holds(pair.value)) return keyPathIn(pair.value, offset, [...path, key]);
    }
  } else if (isSeq(node)) {
    const index = node.items.findIndex(holds);
    if (index >= 0) return keyPathIn(node.items[index], offset, [...path, index]);
  }
  return undefined;
}
