/**
 * A variable set to blanks (`RATE_LIMIT_RPM=" "`) is not a number: the schema's type
 * coercion used to read `" "` as 0, so every request was refused. It is a config error
 * naming the field and the variable, at start, in `validate` and on reload; an empty or
 * unset variable still takes its `${VAR:-default}`.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { parseConfig } from '../../core/config/load.js';
import { ConfigError } from '../../core/config/issues.js';
import { resolvePlugins } from '../../core/pipeline.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { startGateway } from '../helpers/gateway.js';
import { Limits } from '../../filters/rate-limit/config.js';
import { configIssues } from '../helpers/config-issues.js';

const RPM = 'providers:\n  echo: {}\nrate_limits:\n  default:\n    requests_per_minute: ${RATE_LIMIT_RPM:-60}\n';

function issuesOf(text: string, env: NodeJS.ProcessEnv): ConfigError['issues'] {
  return configIssues(text, '/etc/gw/config.yaml', env);
}

t.test('a blank variable in a numeric field is an error naming the field and the variable', async (t) => {
  for (const blank of [' ', '   ', '\t', ' \n ']) {
    const issues = issuesOf(RPM, { RATE_LIMIT_RPM: blank });
    t.equal(issues.length, 1, `${JSON.stringify(blank)}: one issue`);
    t.equal(issues[0]?.path, 'rate_limits.default.requests_per_minute');
    t.equal(issues[0]?.line, 5);
    t.match(issues[0]?.message, /RATE_LIMIT_RPM/, 'names the variable');
    t.match(issues[0]?.message, /blank/);
  }
  const port = issuesOf('server:\n  port: "${AI_GATEWAY_PORT}"\nproviders:\n  echo: {}\n', { AI_GATEWAY_PORT: ' ' });
  t.same(port.map((i) => i.path), ['server.port']);
  t.match(port[0]?.message, /AI_GATEWAY_PORT/);
});

t.test('empty or unset still takes the default; a number with spaces around it is still that number', async (t) => {
  t.equal(parseConfig(RPM, 'x.yaml', { RATE_LIMIT_RPM: '' }).config.rate_limits?.default?.requests_per_minute, 60);
  t.equal(parseConfig(RPM, 'x.yaml', {}).config.rate_limits?.default?.requests_per_minute, 60);
  t.equal(parseConfig(RPM, 'x.yaml', { RATE_LIMIT_RPM: '75' }).config.rate_limits?.default?.requests_per_minute, 75);
  t.equal(parseConfig(RPM, 'x.yaml', { RATE_LIMIT_RPM: ' 75 ' }).config.rate_limits?.default?.requests_per_minute, 75);
});

t.test('a blank string field stays a string', async (t) => {
  const { config } = parseConfig('providers:\n  echo:\n    models: ["${M}"]\n', 'x.yaml', { M: ' ' });
  t.same(config.providers.echo.models, [' ']);
});

t.test("a blank variable in a plugin's numeric option is an error at its path", async (t) => {
  const loaded = parseConfig('providers:\n  echo: {}\nfilters:\n  - name: rate-limit\n    config:\n      max_reserved_tokens: ${MAX_RESERVED}\n', '/c.yaml', { MAX_RESERVED: ' ' });
  const err = await resolvePlugins(loaded, builtinCatalog).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof ConfigError, 'refused');
  const issues = (err as ConfigError).issues;
  t.same(issues.map((i) => i.path), ['filters[0].config.max_reserved_tokens']);
  t.equal(issues[0].line, 6);
  t.match(issues[0].message, /MAX_RESERVED/);
});

t.test('a reload to a config whose variable is blank changes nothing', async (t) => {
  const g = await startGateway(t, 'server:\n  host: 127.0.0.1\nproviders:\n  echo: {}\n', { env: { RATE_LIMIT_RPM: ' ' } });
  const good = g.gateway.current.hash;
  writeFileSync(g.configPath, `server:\n  host: 127.0.0.1\n${RPM}`);
  const r = await g.gateway.reload();
  t.equal(r.ok, false, 'refused');
  if (!r.ok) t.match(r.error.issues[0]?.message, /RATE_LIMIT_RPM/);
  t.equal(g.gateway.current.hash, good, 'the old config still serves');
});

t.test("RATE_LIMIT_RPM read by the rate limiter itself: blank is not a limit of 0", async (t) => {
  const limits = new Limits(parseConfig('providers:\n  echo: {}\n', 'x.yaml', {}).config, { RATE_LIMIT_RPM: ' ' });
  t.equal(limits.user('u').limits.requests, 60, 'the seed default, as for a value that is not a number');
  t.equal(new Limits(parseConfig('providers:\n  echo: {}\n', 'x.yaml', {}).config, { RATE_LIMIT_RPM: '7' }).user('u').limits.requests, 7);
});
