/**
 * `store.redis.tls` when the config loads: the files are read against the config's folder
 * and checked as a handshake would use them, each problem named at its key; a memory store
 * leaves an unused redis section alone. (The store using them against real TLS Redis
 * servers: test/filters/rate-limit/redis-tls.test.ts.)
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readRedisTls } from '../../core/stores/redis-tls.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { tempDir } from '../helpers/temp-dir.js';
import { formattedConfigIssues } from '../helpers/config-issues.js';

const dir = tempDir('aigw-redis-tls-config-');
const server = selfSignedCertificate(dir, { certFile: 'redis-ca.pem', keyFile: 'redis-ca.key' });
const client = selfSignedCertificate(dir, { certFile: 'client.pem', keyFile: 'client.key' });
writeFileSync(path.join(dir, 'not-pem.txt'), 'hello\n');
const configFile = path.join(dir, 'config.yaml');

function config(tls: string, { url = 'rediss://redis:6380', type = 'redis' } = {}): string {
  return `store:\n  type: ${type}\n  redis:\n    url: "${url}"\n    tls:\n${tls}`;
}

/** The formatted issues of loading `text` from the test folder, or [] when it loads. */
function issuesOf(text: string): string[] {
  return formattedConfigIssues(text, configFile);
}

t.test('files relative to the config file load, and their contents reach the store', async (t) => {
  const text = config('      ca_file: redis-ca.pem\n      cert_file: client.pem\n      key_file: client.key\n');
  t.same(issuesOf(text), []);
  const read = readRedisTls('rediss://redis:6380', dir, { ca_file: 'redis-ca.pem', cert_file: 'client.pem', key_file: 'client.key' });
  if (!('tls' in read)) return t.fail(JSON.stringify(read.problems));
  t.same(read.tls.options.ca, server.pem, 'the CA file');
  t.same(read.tls.options.cert, client.pem, 'the client certificate');
  t.match(read.tls.options.key?.toString(), /PRIVATE KEY/, 'its key');
});

t.test('a changed file changes the digest (a rotated certificate makes a new store on reload)', async (t) => {
  const rotating = tempDir('aigw-redis-tls-rotate-');
  copyFileSync(server.cert, path.join(rotating, 'ca.pem'));
  const digest = (): string => {
    const read = readRedisTls('rediss://r', rotating, { ca_file: 'ca.pem' });
    return 'tls' in read ? read.tls.digest : 'problems';
  };
  const before = digest();
  t.equal(digest(), before, 'the same contents, the same digest');
  copyFileSync(client.cert, path.join(rotating, 'ca.pem'));
  t.not(digest(), before, 'new contents, a new digest');
});

t.test('each problem is named at its key, with the file', async (t) => {
  t.match(issuesOf(config('      ca_file: redis-ca.pem\n', { url: 'redis://redis:6379' })), [/config\.yaml:6:\d+: store\.redis\.tls: needs a rediss:\/\/ url/]);
  t.match(issuesOf(config('      cert_file: client.pem\n')), [/store\.redis\.tls\.key_file: a client certificate needs both cert_file and key_file/]);
  t.match(issuesOf(config('      key_file: client.key\n')), [/store\.redis\.tls\.cert_file: a client certificate needs both/]);
  t.match(issuesOf(config('      ca_file: missing.pem\n')), [new RegExp(`config\\.yaml:6:\\d+: store\\.redis\\.tls\\.ca_file: cannot read ${path.join(dir, 'missing.pem')}: ENOENT`)]);
  t.match(issuesOf(config('      ca_file: not-pem.txt\n')), [/store\.redis\.tls\.ca_file: .*not-pem\.txt holds no PEM certificate/]);
  t.match(issuesOf(config('      cert_file: not-pem.txt\n      key_file: client.key\n')), [/store\.redis\.tls\.cert_file: .*holds no PEM certificate/]);
  t.match(issuesOf(config('      cert_file: client.pem\n      key_file: client.pem\n')), [/store\.redis\.tls\.key_file: .*client\.pem holds no unencrypted PEM private key/]);
  t.match(issuesOf(config('      cert_file: client.pem\n      key_file: redis-ca.key\n')), [/store\.redis\.tls\.key_file: .*redis-ca\.key is not the key of the certificate in cert_file/]);
  t.match(issuesOf(config('      ca_file: missing.pem\n      cert_file: gone.pem\n      key_file: client.key\n')), [/ca_file: cannot read/, /cert_file: cannot read/], 'every unreadable file at once');
  t.match(issuesOf(config('      pem: x\n')), [/store\.redis\.tls\.pem: unknown key/], 'the schema knows the keys');
});

t.test('a memory store does not check an unused redis section', async (t) => {
  t.same(issuesOf(config('      ca_file: missing.pem\n', { type: 'memory' })), []);
});
