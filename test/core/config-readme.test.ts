/**
 * The README's config examples load as written. A ```yaml block whose first line (past
 * blank lines and comments) is a top-level key is taken as a whole config; one that starts
 * with a filter entry (`  - name: audit`) is taken as the `filters:` list it is an excerpt
 * of. Each must pass what `ai-gateway validate` checks before building: YAML syntax, the
 * config schema and every plugin's own config schema, with no environment set, so
 * `${VAR:-default}` takes its default and `${VAR}` is empty. A key written `…` marks an
 * elision and is let through, and so is a provider an example names but another block
 * configures.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseConfig, type LoadedConfig } from '../../core/config/load.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../../core/config/issues.js';
import { resolvePlugins } from '../../core/pipeline.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { repoRoot } from '../helpers/process.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function configBlocks(): Array<{ line: number; yaml: string }> {
  const out: Array<{ line: number; yaml: string }> = [];
  for (const m of readme.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)) {
    const line = readme.slice(0, m.index).split('\n').length + 1;
    const first = m[1].split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (first === undefined) continue;
    if (/^[A-Za-z_][\w-]*:/.test(first)) out.push({ line, yaml: m[1] });
    // One line above the block, so issues still name its README line.
    else if (/^ {2}- name: /.test(first)) out.push({ line: line - 1, yaml: `filters:\n${m[1]}` });
  }
  return out;
}

const elided = (i: ConfigIssue) => i.path.split(/[.[]/).includes('…');
const elsewhere = (i: ConfigIssue) => /names provider "[^"]+", which is not configured/.test(i.message);

async function issuesOf(yaml: string, file: string): Promise<ConfigIssue[]> {
  let loaded: LoadedConfig;
  const issues: ConfigIssue[] = [];
  try {
    loaded = parseConfig(yaml, file, {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Elisions only (`rate_limits: { … }`): the rest is still checked, as validate does.
    if (!err.partial || !err.issues.every(elided)) return err.issues;
    issues.push(...err.issues);
    loaded = err.partial as LoadedConfig;
  }
  try {
    await resolvePlugins(loaded, builtinCatalog);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  return issues;
}

t.test('every config YAML block in the README loads, plugin sections included', async (t) => {
  const blocks = configBlocks();
  t.ok(blocks.length >= 20, `found ${blocks.length} blocks`);
  t.ok(blocks.filter((b) => b.yaml.startsWith('filters:\n  - name:')).length >= 7, 'the filter excerpts among them');
  for (const { line, yaml } of blocks) {
    const issues = (await issuesOf(yaml, `README.md block at line ${line}`)).filter((i) => !elided(i) && !elsewhere(i)).map(formatIssue);
    t.same(issues, [], `the block at README.md:${line} (${yaml.split('\n')[0]})`);
  }
});
