/**
 * The gateway's own AWS credentials: static keys from the config, or AWS's maintained
 * default chain (`fromNodeProviderChain`: env, shared files and profiles, SSO, process,
 * web identity, ECS/EKS container endpoints, EC2 instance roles). Whether there is any is
 * decided at create without I/O, so a gateway without AWS credentials starts offline and
 * says `unconfigured`. Temporary credentials are cached and fetched anew shortly before
 * they expire. Secrets are never logged or described.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { dynamicImport } from '../../core/dynamic-import.js';
import type { BedrockConfig } from './config.js';

/** AWS credentials as the signer takes them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
}

/** Resolves credentials; `forceRefresh` asks past any cache underneath. */
export type CredentialResolver = (options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>;

/**
 * Where the credentials come from, for `/v1/providers`: `static` (config), `env`, `profile`
 * (shared files), `web-identity`, `container`, `chain` (anything the chain finds, EC2
 * included), or `none`.
 */
export type CredentialSource = 'static' | 'env' | 'profile' | 'web-identity' | 'container' | 'chain' | 'none';

type Env = Readonly<Record<string, string | undefined>>;

/** Which source `config` points at, from the config and environment alone (no I/O but `stat`). */
export function detectSource(config: BedrockConfig, env: Env = process.env): CredentialSource {
  const id = config.access_key_id.trim();
  const secret = config.secret_access_key.trim();
  if ((id === '') !== (secret === '')) throw new Error('access_key_id and secret_access_key must be set together');
  if (id !== '') return 'static';
  if (config.credentials === 'static') return 'none';
  if (config.credentials === 'chain') return 'chain';
  if (config.profile === '' && !env.AWS_PROFILE && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return 'env';
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) return 'web-identity';
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return 'container';
  if (config.profile !== '' || env.AWS_PROFILE) return 'profile';
  const home = env.HOME || homedir();
  const files = [env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config')];
  if (files.some((f) => existsSync(f))) return 'profile';
  return 'none';
}

/** The resolver for a source; the chain module is imported on first use only. */
export function resolverFor(config: BedrockConfig, source: CredentialSource): CredentialResolver {
  if (source === 'static') {
    const creds: AwsCredentials = {
      accessKeyId: config.access_key_id.trim(),
      secretAccessKey: config.secret_access_key.trim(),
      ...(config.session_token.trim() ? { sessionToken: config.session_token.trim() } : {}),
    };
    return async () => creds;
  }
  let chain: CredentialResolver | undefined;
  return async (options) => {
    if (!chain) {
      const { fromNodeProviderChain } = (await dynamicImport('@aws-sdk/credential-providers')) as typeof import('@aws-sdk/credential-providers');
      chain = fromNodeProviderChain(config.profile ? { profile: config.profile } : {}) as CredentialResolver;
    }
    return chain(options);
  };
}

/**
 * Credentials cached until `refreshMs` before they expire; then the next caller waits for
 * fresh ones (concurrent callers share one fetch). If the fetch fails while the old ones
 * still work, they are used and the failure is reported through `onRefreshError`.
 */
export class CredentialCache {
  private current: AwsCredentials | undefined;
  private pending: Promise<AwsCredentials> | undefined;
  /** How many times credentials were fetched (for health and tests). */
  fetches = 0;

  constructor(
    private readonly resolve: CredentialResolver,
    private readonly refreshMs: number,
    private readonly onRefreshError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<AwsCredentials> {
    const c = this.current;
    if (c && !this.due(c)) return Promise.resolve(c);
    this.pending ??= this.fetch(c).finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Expiry of the cached credentials, if they are temporary. */
  get expiration(): Date | undefined {
    return this.current?.expiration;
  }

  private due(c: AwsCredentials): boolean {
    return c.expiration !== undefined && c.expiration.getTime() - this.now() <= this.refreshMs;
  }

  private async fetch(old: AwsCredentials | undefined): Promise<AwsCredentials> {
    this.fetches++;
    try {
      // Past the chain's own cache: it keeps credentials until 5 minutes before expiry.
      const fresh = await this.resolve(old ? { forceRefresh: true } : undefined);
      this.current = fresh;
      return fresh;
    } catch (err) {
      if (old && (old.expiration === undefined || old.expiration.getTime() > this.now())) {
        this.onRefreshError(err);
        return old;
      }
      throw err;
    }
  }
}
