import t from 'tap';
import { parseConfig } from '../../core/config/load.js';
import { interpolateString } from '../../core/config/interpolate.js';
import { ConfigError, formatIssue } from '../../core/config/issues.js';
import { resolvePlugins } from '../../core/pipeline.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { configIssues } from '../helpers/config-issues.js';

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError['issues'] {
  return configIssues(text, '/etc/gw/config.yaml', env);
}

t.test('a valid config gets defaults', async (t) => {
  const { config } = parseConfig('providers:\n  echo: {}\n', 'x.yaml', {});
  t.equal(config.server.port, 8090);
  t.equal(config.server.max_body_bytes, 32 * 1024 * 1024);
  t.same(config.filters, []);
  t.equal(config.providers.echo.enabled, true);
});

t.test('unknown keys are errors with line and key path', async (t) => {
  const issues = issuesOf(['server:', '  port: 8090', '  prot: 1', 'providers: {}', 'colour: blue'].join('\n'));
  t.equal(issues.length, 2);
  const prot = issues.find((i) => i.path === 'server.prot')!;
  t.ok(prot, 'names server.prot');
  t.equal(prot.line, 3);
  t.match(prot.message, /unknown key "prot"/);
  const colour = issues.find((i) => i.path === 'colour')!;
  t.equal(colour.line, 5);
  t.match(formatIssue(colour), /^\/etc\/gw\/config\.yaml:5:1: colour: unknown key "colour"$/);
});

t.test('type errors point at the value', async (t) => {
  const issues = issuesOf('server:\n  host: 127.0.0.1\n  port: eighty\n');
  t.equal(issues.length, 1);
  t.equal(issues[0].path, 'server.port');
  t.equal(issues[0].line, 3);
  t.match(issues[0].message, /integer/);
});

t.test('every error is reported, not just the first', async (t) => {
  const issues = issuesOf('server:\n  port: -1\n  max_body_bytes: 0\nrate_limits:\n  default:\n    requests_per_minute: lots\n');
  t.same(issues.map((i) => i.path).sort(), ['rate_limits.default.requests_per_minute', 'server.max_body_bytes', 'server.port']);
  t.same(issues.map((i) => i.line).sort(), [2, 3, 6]);
});

t.test('YAML syntax errors carry a line', async (t) => {
  const issues = issuesOf('server:\n  port: 8090\n providers: [\n');
  t.ok(issues.length >= 1);
  t.ok(issues[0].line && issues[0].line >= 2, 'line reported');
  t.match(issues[0].message, /^YAML:/);
});

t.test('a file with no content is an error, not an empty config', async (t) => {
  for (const text of ['', '\n', '  \n\n', '# nothing here yet\n', '\n# providers: {}\n']) {
    const issues = issuesOf(text);
    t.equal(issues.length, 1, JSON.stringify(text));
    t.equal(issues[0]?.message, 'the config file is empty (nothing but blank lines or comments)', JSON.stringify(text));
  }
  for (const text of ['---\n', '~\n', 'null\n']) t.match(issuesOf(text)[0]?.message, 'config must be a YAML mapping', `${JSON.stringify(text)}: a document that is null`);
});

/** "Billion laughs": nine levels of nine aliases each, 9^9 values if expanded. */
function aliasBomb(): string {
  const rows = ['server: { host: 127.0.0.1 }', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) rows.push(`${names[i]}: &${names[i]} [${Array(9).fill('*' + names[i - 1]).join(',')}]`);
  return rows.join('\n') + '\n';
}

t.test('an alias bomb is a config error at its first alias, not a bare exception', async (t) => {
  const issues = issuesOf(aliasBomb());
  t.equal(issues.length, 1);
  t.match(formatIssue(issues[0]), /^\/etc\/gw\/config\.yaml:3:8: YAML: Excessive alias count .* \(the first alias is here\)$/);
});

t.test('duplicate keys are errors', async (t) => {
  const issues = issuesOf('server:\n  port: 1\n  port: 2\n');
  t.ok(issues.length >= 1);
  t.match(issues[0].message, /[Uu]nique|duplicate/);
});

t.test('a duplicate key names its path, inside mappings and lists', async (t) => {
  const nested = issuesOf('providers:\n  anthropic:\n    api_key: a\n    api_key: b\n');
  t.equal(nested.length, 1);
  t.equal(nested[0].path, 'providers.anthropic.api_key');
  t.equal(formatIssue(nested[0]), '/etc/gw/config.yaml:4:5: providers.anthropic.api_key: YAML: duplicate key api_key (map keys must be unique)');
  const inList = issuesOf('providers: {}\nfilters:\n  - type: auth\n  - type: audit\n    type: cache\n');
  t.equal(inList[0].path, 'filters[1].type');
  t.equal(inList[0].line, 5);
});

t.test('the seed rate_limits block is accepted verbatim', async (t) => {
  const seed = `rate_limits:
  global:
    requests_per_minute: 1000
    tokens_per_minute: 1000000

  default:
    requests_per_minute: 60
    tokens_per_minute: 100000

  users:
    admin:
      requests_per_minute: 200
    contractor1:
      requests_per_minute: 100
`;
  const { config } = parseConfig(seed, 'seed.yaml', {});
  t.equal(config.rate_limits?.users?.contractor1.requests_per_minute, 100);
  t.equal(config.rate_limits?.global?.tokens_per_minute, 1000000);
});

t.test('env interpolation', async (t) => {
  const env = { PORT_X: '9123', KEY: 'sk-abc', EMPTY: '' };
  t.equal(interpolateString('${KEY}', env), 'sk-abc');
  t.equal(interpolateString('${MISSING}', env), '');
  t.equal(interpolateString('${MISSING:-fallback}', env), 'fallback');
  t.equal(interpolateString('${EMPTY:-fallback}', env), 'fallback', 'empty counts as unset for :-');
  t.equal(interpolateString('a-${KEY}-b', env), 'a-sk-abc-b');
  t.equal(interpolateString('$${KEY}', env), '${KEY}', '$${ escapes');
  t.equal(interpolateString('no vars', env), 'no vars');

  const { config } = parseConfig('server:\n  port: ${PORT_X}\nproviders:\n  echo:\n    models: ["${MODEL:-m1}"]\n', 'x.yaml', env);
  t.equal(config.server.port, 9123, 'an interpolated number is typed by the schema');
  t.same(config.providers.echo.models, ['m1']);

  const { config: c2 } = parseConfig('server:\n  port: ${AI_GATEWAY_PORT:-8090}\nrate_limits:\n  default:\n    requests_per_minute: ${RATE_LIMIT_RPM:-60}\n', 'x.yaml', { RATE_LIMIT_RPM: '75' });
  t.equal(c2.server.port, 8090);
  t.equal(c2.rate_limits?.default?.requests_per_minute, 75);
});

t.test('interpolation cannot inject YAML structure', async (t) => {
  const { config } = parseConfig('providers:\n  echo:\n    models: ["${EVIL}"]\n', 'x.yaml', { EVIL: 'a", "b\nserver: {port: 1}' });
  t.same(config.providers.echo.models, ['a", "b\nserver: {port: 1}']);
  t.equal(config.server.port, 8090);
});

t.test('plugin config errors carry the plugin key path and line', async (t) => {
  const loaded = parseConfig('providers:\n  echo:\n    models: [a]\n    colour: red\nfilters:\n  - name: nope\n', '/c.yaml', {});
  const err = await resolvePlugins(loaded, builtinCatalog).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ConfigError);
  const issues = (err as ConfigError).issues;
  const colour = issues.find((i) => i.path === 'providers.echo.colour');
  t.ok(colour, 'provider plugin schema enforced');
  t.equal(colour?.line, 4);
  const unknown = issues.find((i) => i.path === 'filters[0].name');
  t.match(unknown?.message, /unknown filter "nope"/);
  t.equal(unknown?.line, 6);
});

t.test('a route naming a missing provider is an error', async (t) => {
  const loaded = parseConfig('providers:\n  echo: {}\nroutes:\n  - name: r\n    match: { prefix: /x }\n    provider: ghost\n', '/c.yaml', {});
  const err = (await resolvePlugins(loaded, builtinCatalog).catch((e: unknown) => e)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.issues[0].path, 'routes[0].provider');
  t.equal(err.issues[0].line, 6);
});

t.test('the embedded default config is valid', async (t) => {
  const { loadConfigFile, defaultConfigPath } = await import('../../core/config/load.js');
  const loaded = loadConfigFile(defaultConfigPath, {});
  const resolved = await resolvePlugins(loaded, builtinCatalog);
  t.ok(resolved.providers.some((p) => p.type === 'echo'), 'routes the echo provider');
});

t.test('a Redis Cluster store: the URL may name no database but 0', async (t) => {
  const ok = parseConfig('store:\n  type: redis\n  redis:\n    url: "redis://:pw@redis-0:6379/0"\n    cluster: true\n', 'x.yaml', {});
  t.equal(ok.config.store?.redis?.cluster, true);
  t.equal(parseConfig('store:\n  type: redis\n  redis: { url: "redis://r:6379/3" }\n', 'x.yaml', {}).config.store?.redis?.cluster, false, 'a single Redis may use another database; cluster defaults to false');
  const issues = issuesOf('store:\n  type: redis\n  redis:\n    url: "redis://redis-0:6379/3"\n    cluster: true\n');
  t.equal(issues.length, 1);
  t.match(formatIssue(issues[0]), /config\.yaml:4:\d+: store\.redis\.url: Redis Cluster has only database 0: drop "\/3" from the URL, or set cluster: false/);
});
