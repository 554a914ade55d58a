/**
 * A throwaway self-signed certificate made by openssl at test time (nothing secret is
 * committed): CN=localhost, valid a day, its own CA.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCertificate {
  /** Paths of the PEM files in `dir`. */
  cert: string;
  key: string;
  /** The certificate's PEM, for a client's `ca`. */
  pem: Buffer;
}

export interface CertificateOptions {
  /** openssl's subjectAltName, e.g. `IP:127.0.0.1`; '' for none. */
  altNames?: string;
  /** File names in the folder. */
  certFile?: string;
  keyFile?: string;
}

/** A certificate and its key written into `dir` (by default `cert.pem` and `key.pem`, for 127.0.0.1 and localhost). */
export function selfSignedCertificate(dir: string, { altNames = 'IP:127.0.0.1,DNS:localhost', certFile = 'cert.pem', keyFile = 'key.pem' }: CertificateOptions = {}): TestCertificate {
  const cert = path.join(dir, certFile);
  const key = path.join(dir, keyFile);
  const san = altNames ? ['-addext', `subjectAltName=${altNames}`] : [];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', ...san], { stdio: 'ignore', timeout: 20_000 });
  return { cert, key, pem: readFileSync(cert) };
}
