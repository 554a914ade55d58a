/**
 * `ai-gateway keygen WORKSPACE_ID [--secret S] [--config FILE]`: print the workspace key
 * for a workspace. The secret comes from `--secret`, else `AI_GATEWAY_KEY_SECRET`, else
 * the `key_secret` of the config's `auth` filter, trimmed as the filter trims it.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.js';
import { resolveConfigPath } from '../core/gateway.js';
import { keySecret, makeWorkspaceKey, MIN_SECRET_LENGTH } from '../filters/auth/keys.js';

function secretFromConfig(file: string): string | undefined {
  const { config } = loadConfigFile(file);
  const entry = config.filters.find((f) => f.name === 'auth' && !f.plugin);
  const secret = entry?.config.key_secret;
  return typeof secret === 'string' && secret !== '' ? secret : undefined;
}

export function keygen(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { secret: { type: 'string' }, config: { type: 'string', short: 'c' } },
  });
  const [workspace, ...extra] = positionals;
  if (!workspace || extra.length > 0) {
    err('Usage: ai-gateway keygen WORKSPACE_ID [--secret SECRET] [--config FILE]\n');
    return 2;
  }
  const raw = values.secret || process.env.AI_GATEWAY_KEY_SECRET || secretFromConfig(resolveConfigPath(values.config, process.env));
  if (!raw) {
    err('ai-gateway keygen: no key secret: pass --secret, set AI_GATEWAY_KEY_SECRET, or set key_secret in the auth filter\'s config\n');
    return 1;
  }
  const secret = keySecret(raw);
  if (secret.length < MIN_SECRET_LENGTH) {
    err(`ai-gateway keygen: the key secret must be at least ${MIN_SECRET_LENGTH} characters\n`);
    return 1;
  }
  out(makeWorkspaceKey(secret, workspace) + '\n');
  return 0;
}
