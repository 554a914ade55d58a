/**
 * Config reload under traffic: requests run back to back while the config file is rewritten;
 * the time is from the write until `/health` shows the new config's hash.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Target } from './load.js';

export interface ReloadResult {
  /** Write → applied, ms (NaN if not applied within 5 s). */
  ms: number;
  /** Requests that failed or were not 200 while it happened, of `sent`. */
  failed: number;
  sent: number;
}

/** Rewrite `file` with `config` (plus a comment, so its hash changes) while `target` is driven. */
export async function measureReload(url: string, file: string, config: string, target: Target): Promise<ReloadResult> {
  let failed = 0;
  let sent = 0;
  let running = true;
  const traffic = (async () => {
    while (running) {
      sent++;
      try {
        const res = await request(target.url, { method: 'POST', body: target.body, headers: { 'content-type': 'application/json', ...target.headers } });
        await res.body.dump();
        if (res.statusCode !== 200) failed++;
      } catch {
        failed++;
      }
    }
  })();
  await sleep(300);
  const hashOf = async (): Promise<string> => ((await (await request(`${url}/health`)).body.json()) as { config: { hash: string } }).config.hash;
  const before = await hashOf();
  const start = performance.now();
  writeFileSync(file, config + `\n# reload ${Date.now()}\n`);
  let ms = NaN;
  while (performance.now() - start < 5000) {
    if ((await hashOf()) !== before) {
      ms = performance.now() - start;
      break;
    }
    await sleep(2);
  }
  await sleep(300);
  running = false;
  await traffic;
  return { ms, failed, sent };
}
