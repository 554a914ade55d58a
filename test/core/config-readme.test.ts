/**
 * The README's config examples load as written. A ```yaml block whose first line (past
 * blank lines and comments) is a top-level key is taken as a whole config: it must pass the
 * loader — YAML syntax and the config schema — with no environment set, so `${VAR:-default}`
 * takes its default. A key written `…` marks an elision and is let through. Blocks that
 * start indented (`  - name: audit`) are excerpts of a list and are not checked; neither
 * are plugin sections, whose examples may name providers configured in another block.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseConfig } from '../../core/config/load.js';
import { ConfigError, formatIssue } from '../../core/config/issues.js';
import { repoRoot } from '../helpers/process.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function wholeConfigs(): Array<{ line: number; yaml: string }> {
  const out: Array<{ line: number; yaml: string }> = [];
  for (const m of readme.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)) {
    const first = m[1].split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (first !== undefined && /^[A-Za-z_][\w-]*:/.test(first)) out.push({ line: readme.slice(0, m.index).split('\n').length + 1, yaml: m[1] });
  }
  return out;
}

t.test('every whole-config YAML block in the README loads', async (t) => {
  const blocks = wholeConfigs();
  t.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
  for (const { line, yaml } of blocks) {
    let issues: string[] = [];
    try {
      parseConfig(yaml, `README.md block at line ${line}`, {});
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues = err.issues.filter((i) => !i.path.split(/[.[]/).includes('…')).map(formatIssue);
    }
    t.same(issues, [], `the block at README.md:${line} (${yaml.split('\n')[0]})`);
  }
});
