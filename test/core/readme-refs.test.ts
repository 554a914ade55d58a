/**
 * What the README names exists: every `#anchor` link is a heading, every relative link a
 * file, every `gateway_…` metric one the code registers, every `GW_ERR_…` code one the
 * code catalogues, and every subcommand its command summary lists one `--help` lists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot, runCli } from '../helpers/process.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
/** The README with fenced blocks blanked (offsets kept): `# …` in a shell block is no heading. */
const prose = readme.replace(/^```[\s\S]*?^```/gm, (m) => m.replace(/[^\n]/g, ' '));
const lineOf = (index: number) => readme.slice(0, index).split('\n').length;

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingIds(md: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of md.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const id = m[1].toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    ids.add(n === 0 ? id : `${id}-${n}`);
  }
  return ids;
}

function sourceText(dirs: readonly string[]): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) parts.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of dirs) walk(path.join(repoRoot, d));
  return parts.join('\n');
}
const source = sourceText(['core', 'filters', 'providers', 'bin']);

t.test('every #anchor link names a heading, every relative link a file', async (t) => {
  const ids = headingIds(prose);
  t.ok(ids.has('quick-start') && ids.has('http2-and-tls') && ids.has('gemini-googlegenai'), 'ids as GitHub makes them');
  const links = [...prose.matchAll(/\]\(#([^)\s]+)\)/g)];
  t.ok(links.length >= 40, `${links.length} anchor links`);
  for (const m of links) t.ok(ids.has(m[1]), `README.md:${lineOf(m.index)}: #${m[1]}`);
  for (const m of prose.matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)) t.ok(existsSync(path.join(repoRoot, m[1])), `README.md:${lineOf(m.index)}: ${m[1]}`);
});

t.test('every metric the README names is registered', async (t) => {
  const names = new Set([...readme.matchAll(/(?<![\w.])gateway_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
  t.ok(names.size >= 30, `${names.size} metrics named`);
  for (const name of names) t.match(source, new RegExp(`name: '${name}'`), name);
});

t.test('every error code the README names is catalogued', async (t) => {
  const codes = new Set([...readme.matchAll(/GW_ERR_[A-Z0-9_]+/g)].map((m) => m[0]));
  t.ok(codes.size >= 15, `${codes.size} codes named`);
  // An upstream's own error answer or stream error is no gateway error: the outcome names it.
  const outcome = readFileSync(path.join(repoRoot, 'core/outcome.ts'), 'utf8');
  for (const code of codes) t.ok(new RegExp(`(defineError\\('${code}'|^  ${code}: \\{)`, 'm').test(source) || outcome.includes(`code: '${code}'`), code);
});

t.test('the command summary lists what --help lists', async (t) => {
  const summary = /^## The command\n\n```\n([\s\S]*?)^```/m.exec(readme)?.[1] ?? '';
  const help = runCli(['--help']).stdout;
  const commands = (text: string) => new Set([...text.matchAll(/^ *ai-gateway ((?:[a-z]+ ?){0,2})/gm)].map((m) => m[1].trim()));
  const listed = (text: string) => [...commands(text)].filter((c) => c !== '').sort();
  t.same(listed(summary), listed(help), 'the same subcommands');
  const flags = (text: string) => new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]));
  for (const flag of flags(summary)) t.ok(flags(help).has(flag), `${flag} is in --help`);
  for (const flag of flags(help)) t.ok(flags(readme).has(flag), `${flag} is in the README`);
});

t.test('the configuration reference lists every server key the schema has', async (t) => {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas/config.schema.json'), 'utf8')) as { properties: { server: { properties: Record<string, unknown> } } };
  const section = /^## Configuration reference\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `')).join('\n');
  const keys = Object.keys(schema.properties.server.properties);
  t.ok(keys.length >= 15, `${keys.length} server keys`);
  for (const key of keys) t.match(rows, new RegExp(`\`${key}[.\`]`), `server.${key}`);
});
