/**
 * `store.redis.tls`: PEM files for a `rediss://` store. `ca_file` is the CA (or CAs) to trust
 * instead of Node's own, as `redis-cli --cacert` does; `cert_file` and `key_file` are the
 * client certificate a Redis with `tls-auth-clients yes` (its default once TLS is on) asks
 * for. The files are read when the config loads, so a missing or mismatched one is refused
 * there, naming its key; the store reads them again when it is made.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface RedisTlsFiles {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
}

/** What ioredis's `tls` option takes (tls.connect's options). */
export interface RedisTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface RedisTls {
  options: RedisTlsOptions;
  /** Of the files' contents: a store is made anew when a reload finds them changed (a rotated certificate). */
  digest: string;
}

/** A problem with one of the `tls` keys. */
export interface RedisTlsProblem {
  key: keyof RedisTlsFiles | 'tls';
  message: string;
}

const FILE_KEYS = ['ca_file', 'cert_file', 'key_file'] as const;
const OPTION_OF = { ca_file: 'ca', cert_file: 'cert', key_file: 'key' } as const;

/**
 * The files' contents, paths relative to `dir`, or the problems that keep them from being
 * used (an unreadable file, a half of a key pair, a file that is no PEM, a key not the
 * certificate's).
 */
export function readRedisTls(url: string, dir: string, files: RedisTlsFiles): { tls: RedisTls } | { problems: RedisTlsProblem[] } {
  if (!url.startsWith('rediss://')) return { problems: [{ key: 'tls', message: 'needs a rediss:// url: the files are used only over TLS' }] };
  if ((files.cert_file === undefined) !== (files.key_file === undefined)) {
    return { problems: [{ key: files.cert_file === undefined ? 'cert_file' : 'key_file', message: 'a client certificate needs both cert_file and key_file' }] };
  }
  const options: RedisTlsOptions = {};
  const problems: RedisTlsProblem[] = [];
  const hash = createHash('sha256');
  for (const key of FILE_KEYS) {
    const file = files[key];
    if (file === undefined) continue;
    const full = path.resolve(dir, file);
    let content: Buffer;
    try {
      content = readFileSync(full);
    } catch (err) {
      problems.push({ key, message: `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    options[OPTION_OF[key]] = content;
    hash.update(`${key}\0`).update(content).update('\0');
  }
  if (problems.length > 0) return { problems };
  problems.push(...pemProblems(options, (key) => path.resolve(dir, files[key]!)));
  return problems.length > 0 ? { problems } : { tls: { options, digest: hash.digest('hex') } };
}

/** What a handshake would find wrong: a file that holds no certificate or key, a key not the certificate's. */
function pemProblems({ ca, cert, key }: RedisTlsOptions, where: (key: keyof RedisTlsFiles) => string): RedisTlsProblem[] {
  const problems: RedisTlsProblem[] = [];
  const certificate = (pem: Buffer, at: 'ca_file' | 'cert_file'): X509Certificate | undefined => {
    try {
      return new X509Certificate(pem);
    } catch {
      problems.push({ key: at, message: `${where(at)} holds no PEM certificate` });
      return undefined;
    }
  };
  if (ca) certificate(ca, 'ca_file');
  if (!cert || !key) return problems;
  const own = certificate(cert, 'cert_file');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    // An encrypted key fails here too: the store has no passphrase to open it with.
    problems.push({ key: 'key_file', message: `${where('key_file')} holds no unencrypted PEM private key (${(err as Error).message})` });
    return problems;
  }
  if (own && !own.checkPrivateKey(privateKey)) problems.push({ key: 'key_file', message: `${where('key_file')} is not the key of the certificate in cert_file` });
  return problems;
}
