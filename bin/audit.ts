/**
 * `ai-gateway audit verify [--expect-head HASH] FILE|DIR…`: check the audit hash chain.
 * Files are taken in the order given; a directory stands for its rotated files (oldest
 * first) and then the active one. Exit 0 when the chain holds, 1 at the first edited,
 * deleted, inserted or reordered line (named by file and line number), 2 on bad usage.
 * `--expect-head` is the head of one log, so it is refused when the arguments hold several.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { auditFiles, GENESIS, verifyChain } from '../filters/audit/verify.js';

type Out = (s: string) => void;

const USAGE = 'usage: ai-gateway audit verify [--expect-head HASH] [--json] FILE|DIR…\n  --expect-head HASH  the chain must end at HASH; checks one log (a directory holding several is refused)\n';

export async function audit(argv: string[], out: Out, err: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'expect-head': { type: 'string' }, json: { type: 'boolean' } } });
  const [verb, ...targets] = positionals;
  if (verb !== 'verify' || targets.length === 0) {
    err(USAGE);
    return 2;
  }
  let groups: string[][];
  try {
    groups = auditFiles(targets);
  } catch (e) {
    err(`ai-gateway: ${(e as Error).message}\n`);
    return 2;
  }
  if (groups.length === 0) {
    err('ai-gateway: no audit files found\n');
    return 2;
  }
  const expectHead = values['expect-head'];
  if (expectHead !== undefined && groups.length > 1) {
    // Checking one head against several chains, or only one of them, would pass a truncated log.
    const logs = groups.map((files) => path.basename(files.at(-1)!)).join(', ');
    err(`ai-gateway: --expect-head is the head of one log, but the arguments hold ${groups.length} logs (${logs}); give that log's files alone, oldest first\n`);
    return 2;
  }
  let failed = false;
  for (const files of groups) {
    const r = await verifyChain(files, expectHead);
    if (values.json) out(JSON.stringify(r) + '\n');
    if (r.ok) {
      const from = r.startsFrom === GENESIS ? 'genesis' : `${r.startsFrom?.slice(0, 16)}… (earlier files not given)`;
      if (!values.json) out(`ok: ${r.lines} lines in ${files.length} file(s), chained from ${from}; head ${r.head}\n`);
      continue;
    }
    failed = true;
    const b = r.break!;
    if (!values.json) out(`FAILED: ${b.file}${b.line ? `:${b.line}` : ''}: ${b.kind}: ${b.detail}\n`);
  }
  return failed ? 1 : 0;
}
