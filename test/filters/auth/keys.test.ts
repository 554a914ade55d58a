import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { makeWorkspaceKey, verifyWorkspaceKey } from '../../../filters/auth/keys.js';
import { keygen } from '../../../bin/keygen.js';
import { SECRET } from '../fixtures.js';
import { tempDir } from '../../helpers/temp-dir.js';

t.test('a key round-trips and carries its workspace', async (t) => {
  for (const id of ['ws-abc123', 'ws_under_score', '3f4e5c6d-7a8b-9c0d-1e2f-3a4b5c6d7e8f', 'é?/_-x']) {
    const key = makeWorkspaceKey(SECRET, id);
    t.match(key, /^gwk_[A-Za-z0-9_-]+_[A-Za-z0-9_-]{43}$/);
    t.equal(verifyWorkspaceKey(SECRET, key), id, id);
  }
});

t.test('tampered, truncated or foreign keys are refused', async (t) => {
  const key = makeWorkspaceKey(SECRET, 'ws-abc123');
  t.equal(verifyWorkspaceKey('another-secret-0123456789', key), undefined, 'other secret');
  t.equal(verifyWorkspaceKey(SECRET, key.slice(0, -1)), undefined, 'truncated');
  t.equal(verifyWorkspaceKey(SECRET, key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')), undefined, 'flipped MAC');
  const other = makeWorkspaceKey(SECRET, 'ws-other');
  const spliced = `gwk_${Buffer.from('ws-other').toString('base64url')}_${key.slice(-43)}`;
  t.not(spliced, other);
  t.equal(verifyWorkspaceKey(SECRET, spliced), undefined, 'MAC of another workspace');
  t.equal(verifyWorkspaceKey(SECRET, 'gwk_'), undefined);
  t.equal(verifyWorkspaceKey(SECRET, 'sk-ant-api03-xyz'), undefined);
  t.throws(() => makeWorkspaceKey('short', 'ws'), /at least 16/);
});

t.test('keygen verb: --secret, environment, then the config', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  t.equal(keygen(['ws-abc123', '--secret', SECRET], (s) => out.push(s), (s) => err.push(s)), 0);
  t.equal(verifyWorkspaceKey(SECRET, out[0].trim()), 'ws-abc123');

  const dir = tempDir('gw-keygen-');
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `filters:\n  - name: auth\n    config:\n      key_secret: ${SECRET}\n`);
  const saved = process.env.AI_GATEWAY_KEY_SECRET;
  delete process.env.AI_GATEWAY_KEY_SECRET;
  t.teardown(() => {
    if (saved !== undefined) process.env.AI_GATEWAY_KEY_SECRET = saved;
  });
  out.length = 0;
  t.equal(keygen(['ws-abc123', '--config', file], (s) => out.push(s), (s) => err.push(s)), 0);
  t.equal(verifyWorkspaceKey(SECRET, out[0].trim()), 'ws-abc123', 'secret read from the auth filter config');

  writeFileSync(file, 'filters: []\n');
  t.equal(keygen(['ws-abc123', '--config', file], () => {}, (s) => err.push(s)), 1, 'no secret anywhere');
  t.match(err.at(-1), /no key secret/);
  t.equal(keygen([], () => {}, (s) => err.push(s)), 2, 'usage');
});

t.test('keygen trims the secret as the auth filter does, wherever it comes from', async (t) => {
  const expected = makeWorkspaceKey(SECRET, 'ws-abc123');
  const saved = process.env.AI_GATEWAY_KEY_SECRET;
  t.teardown(() => {
    if (saved === undefined) delete process.env.AI_GATEWAY_KEY_SECRET;
    else process.env.AI_GATEWAY_KEY_SECRET = saved;
  });
  process.env.AI_GATEWAY_KEY_SECRET = `${SECRET}\n`;
  const out: string[] = [];
  t.equal(keygen(['ws-abc123'], (s) => out.push(s), () => {}), 0);
  t.equal(out[0].trim(), expected, 'from the environment, with a trailing newline');
  out.length = 0;
  t.equal(keygen(['ws-abc123', '--secret', ` ${SECRET}\r\n`], (s) => out.push(s), () => {}), 0);
  t.equal(out[0].trim(), expected, 'from --secret, padded');
  const err: string[] = [];
  t.equal(keygen(['ws-abc123', '--secret', 'short-secret\n\n\n\n\n'], () => {}, (s) => err.push(s)), 1, 'the length is checked after trimming');
  t.match(err[0], /at least 16/);
});

t.test('keygen through the real command, secret from the environment', async (t) => {
  const bin = path.resolve(import.meta.dirname, '../../../bin/ai-gateway.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', bin, 'keygen', 'ws-abc123'], {
    env: { ...process.env, AI_GATEWAY_KEY_SECRET: SECRET },
  });
  t.equal(verifyWorkspaceKey(SECRET, stdout.trim()), 'ws-abc123');
  t.notMatch(stdout, SECRET, 'the secret is not printed');
});
