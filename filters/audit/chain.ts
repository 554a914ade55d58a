/**
 * The audit hash chain. Every line written to an audit file ends with two fields:
 *
 *   {…the record…,"prev":"<64 hex>","hash":"<64 hex>"}
 *
 * where `prev` is the previous line's `hash` and
 *
 *   hash = hex(sha256(prev + body))
 *
 * with `prev` as its 64 ASCII hex digits and `body` the UTF-8 bytes of the line as it
 * would be without the two fields: everything before `,"prev":` followed by `}`. The
 * chain fields have a fixed length, so a verifier cuts them off the raw line and rehashes
 * the exact bytes, with no JSON canonicalisation to disagree about.
 *
 * Each file starts with an anchor line (`"event":"audit_anchor"`) whose `prev` is the last
 * hash of the file before it — {@link GENESIS} for the first file — so rotation by size
 * or by day keeps one chain across files. Sealing happens in the one writer, at flush
 * time, never on the request path.
 */
import { hash } from 'node:crypto';

/** `prev` of the very first anchor: 64 zeros. */
export const GENESIS = '0'.repeat(64);

/** The event name of the first line of every chained file. */
export const ANCHOR_EVENT = 'audit_anchor';

/** `,"prev":"` + 64 + `","hash":"` + 64 + `"}` */
export const CHAIN_SUFFIX_LENGTH = 9 + 64 + 10 + 64 + 2;
const SUFFIX = /,"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})"\}$/;

/** hash = sha256(prev + body), hex. One-shot `crypto.hash`: no Hash object per line. */
export function chainHash(prev: string, body: string): string {
  return hash('sha256', prev + body, 'hex');
}

/** `body` (a JSON object's text) with the chain fields appended. */
export function sealLine(prev: string, body: string): { line: string; hash: string } {
  // Sliced first: that flattens `body` (a line is built from dozens of `+` pieces) once, in
  // place, so the hash below reads two flat strings instead of walking the pieces again.
  const head = body.slice(0, -1);
  const sealed = chainHash(prev, body);
  const open = body.length > 2 ? ',' : '';
  return { line: `${head}${open}"prev":"${prev}","hash":"${sealed}"}`, hash: sealed };
}

/** A chained line taken apart; undefined when it carries no well-formed chain fields. */
export function unsealLine(line: string): { body: string; prev: string; hash: string } | undefined {
  const m = SUFFIX.exec(line);
  if (!m || !line.startsWith('{')) return undefined;
  const head = line.slice(0, line.length - CHAIN_SUFFIX_LENGTH);
  return { body: head === '{' ? '{}' : `${head}}`, prev: m[1], hash: m[2] };
}

/** The anchor record that opens a file (its chain fields are added by {@link sealLine}). */
export function anchorBody(file: string, prevFile: string | null, at: Date): string {
  return JSON.stringify({ timestamp: at.toISOString(), event: ANCHOR_EVENT, file, prev_file: prevFile });
}

/**
 * The running chain of one audit file sink: remembers the last hash and seals batches.
 * @example
 * const chain = new AuditChain(GENESIS);
 * const text = chain.seal(['{"event":"ai_request"}']); // one sealed line + "\n"
 */
export class AuditChain {
  constructor(private last: string) {}

  /** The hash of the last sealed line (what the next line's `prev` will be). */
  get head(): string {
    return this.last;
  }

  /** Seal `bodies` in order; returns the text to append (each line newline-terminated). */
  seal(bodies: readonly string[]): string {
    if (bodies.length === 0) return '';
    const lines: string[] = [];
    for (const body of bodies) {
      const s = sealLine(this.last, body);
      this.last = s.hash;
      lines.push(s.line);
    }
    // The last newline joined in too: one flat string (join copies once), not a rope the
    // file write must flatten again.
    lines.push('');
    return lines.join('\n');
  }
}
