/**
 * One glob for model names (core/glob.ts), used by the unified routing table, the
 * validator's allowlists and the price book. Before, each compiled its own regular
 * expression and only the price book's `*` crossed a line break, so `claude-3-haiku\nx`
 * was priced as a Claude model, refused by a `claude-*` allowlist and not routed at all.
 */
import t from 'tap';
import { compileGlob, plainDialect, type Provider } from '../../core/index.js';
import type { ProviderSlot } from '../../core/pipeline.js';
import { ModelTable } from '../../core/unified/selection.js';
import { PriceBook } from '../../filters/cost/price-book.js';
import { wildcard } from '../../filters/validator/limits.js';

/** A name TAP can carry on one line (JSON.stringify leaves U+2028 as it is). */
const shown = (s: string): string => JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

t.test('compileGlob: `*` is any run of characters, everything else is itself', async (t) => {
  const rows: Array<[string, string, boolean]> = [
    ['claude-*', 'claude-sonnet-4-5', true],
    ['claude-*', 'claude-', true],
    ['claude-*', 'anthropic.claude-3', false],
    ['claude-*', 'claude-3-haiku\nx', true],
    ['claude-*', 'claude-3\u2028x', true],
    ['claude-*', 'claude-3\r\n', true],
    ['claude-*', 'x\nclaude-3', false],
    ['*-haiku', 'claude-3-haiku\n', false],
    ['*', '', true],
    ['*', '\n', true],
    ['**', 'anything', true],
    ['a**b', 'ab', true],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['a*b*c', 'abbc', true],
    ['a*b*c', 'acb', false],
    ['*a*a*', 'aa', true],
    ['*a*a*', 'a', false],
    ['gpt-4.1*', 'gpt-4x1-mini', false],
    ['gpt-4.1*', 'gpt-4.1-mini', true],
    ['o1*', 'o1', true],
    ['(x)|y*', 'x', false],
    ['(x)|y*', '(x)|yz', true],
    ['[a-z]*', 'b', false],
    ['[a-z]*', '[a-z]', true],
    ['^$*\\d+?{2}', '^$ok\\d+?{2}', true],
    ['^$*\\d+?{2}', 'ok12', false],
    ['llama?', 'llama3', false],
    ['llama?', 'llama?', true],
    ['exact', 'exact', true],
    ['exact', 'exact\n', false],
    ['exact', 'exac', false],
  ];
  for (const [glob, text, want] of rows) t.equal(compileGlob(glob)(text), want, `${shown(glob)} ${shown(text)}`);
});

t.test('compileGlob: a long id that nearly matches costs one pass, not a backtracking search', async (t) => {
  // `^.*a.*b.*c.*d$` took ~0.4 s on 400 characters of this and grows with the fourth power.
  const text = 'abc'.repeat(100_000);
  const started = performance.now();
  t.equal(compileGlob('*a*b*c*d')(text), false);
  t.equal(compileGlob('*claude*haiku*')('claude'.repeat(100_000)), false);
  t.ok(performance.now() - started < 2000, 'well within a request');
});

const provider: Provider = { dialect: plainDialect, configured: true, features: [], models: () => [], health: async () => ({ status: 'ok' }) };
const slot: ProviderSlot = { name: 'p', type: 'p', prefix: '/v1/p', provider };

/** The three users' verdicts on one pattern and one model id. */
function verdicts(pattern: string, model: string): { routing: boolean; allowlist: boolean; pricing: boolean } {
  const table = new ModelTable({ aliases: {}, rules: [{ match: pattern, provider: 'p' }] }, [{ slot, patterns: [] }]);
  let routing = true;
  try {
    table.select(model, undefined);
  } catch {
    routing = false;
  }
  const book = new PriceBook({ p: { models: { [pattern]: { input: 1, output: 1 } } } });
  return { routing, allowlist: wildcard([pattern])(model), pricing: book.lookup(['p'], model) !== undefined };
}

t.test('routing, the allowlist and the price book agree on every odd model id', async (t) => {
  const patterns = ['claude-*', 'claude-*-haiku*', '*.claude-*', 'a.b*', '(x)|y*', '*[z]', '$*^', '*\\*'];
  const models = [
    'claude-3-haiku',
    'claude-3-haiku\nx',
    'claude-3\u2028-haiku',
    'claude-3-haiku\r',
    'x\nclaude-3',
    'us.claude-3\n',
    'a.bc',
    'aXbc',
    '(x)|yes',
    'x',
    'q[z]',
    'qz',
    '$\n^',
    'a\\b\\',
    '',
  ];
  for (const pattern of patterns) {
    const matches = compileGlob(pattern);
    for (const model of models) {
      const want = matches(model);
      t.same(verdicts(pattern, model), { routing: want, allowlist: want, pricing: want }, `${shown(pattern)} on ${shown(model)}`);
    }
  }
  t.same(verdicts('claude-*', 'claude-3-haiku\nx'), { routing: true, allowlist: true, pricing: true }, 'a line break is a character like any other');
});
