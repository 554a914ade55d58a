/**
 * Start a real gateway in-process on a free loopback port from a YAML string, torn down
 * with the test.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Gateway, type Logger, type ReloadResult } from '../../core/index.js';
import { createLogger } from '../../core/logger.js';
import { builtinCatalog } from '../../bin/catalog.js';
import { tempDir } from './temp-dir.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  configPath: string;
  dir: string;
  /** Operational log lines the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A config file; its folder, unless given, is removed when the test process exits (a full run makes ~700). */
export function writeConfig(yaml: string, dir = tempDir('gw-test-')): { dir: string; file: string } {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

/** `watch: false`: the config file is not watched, so only the test's own `reload()` calls reload it. */
export async function startGateway(t: Teardown, yaml: string, options: { env?: NodeJS.ProcessEnv; dir?: string; log?: Logger; watch?: boolean } = {}): Promise<TestGateway> {
  const { dir, file } = writeConfig(yaml, options.dir);
  const logs: Array<Record<string, unknown>> = [];
  const log = options.log ?? createLogger({ level: 'debug', sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const gateway = await Gateway.start({ configPath: file, catalog: builtinCatalog, env: options.env ?? {}, log, port: 0, host: '127.0.0.1', watch: options.watch });
  t.teardown(() => gateway.close());
  return { gateway, url: gateway.url, configPath: file, dir, logs };
}

/** Writes `yaml` as `gw`'s config and reloads it (start it with `watch: false` so this is the only reload). */
export async function reloadWith(gw: TestGateway, yaml: string): Promise<ReloadResult> {
  writeFileSync(gw.configPath, yaml);
  return gw.gateway.reload();
}
