/**
 * The Kubernetes manifests parse (kubectl is not available here) and agree with each other
 * and with the gateway: every manifest has its kind's required fields, the Deployment's
 * probes, drain and grace period fit the config's drain timeout, the ConfigMap is mounted
 * as a directory (symlink swaps reach it) and holds a config the gateway accepts, and the
 * Service and ServiceMonitor select what exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { builtinCatalog } from '../../bin/catalog.js';
import { parseConfig } from '../../core/config/load.js';
import { resolvePlugins } from '../../core/pipeline.js';
import { repoRoot } from '../helpers/process.js';

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; labels?: Record<string, string> }; [k: string]: unknown };
// Loose views of the fields checked below.
type Loose = any;

const dir = path.join(repoRoot, 'deploy', 'kubernetes');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const docs: Array<{ file: string; doc: Doc }> = [];
for (const file of files) {
  for (const d of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`);
    docs.push({ file, doc: d.toJS() as Doc });
  }
}
const find = (kind: string, name?: string): Loose => docs.find((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name))?.doc;

t.test('every manifest has apiVersion, kind, metadata.name, and the kustomization lists every file', async (t) => {
  for (const { file, doc } of docs) {
    t.ok(doc.apiVersion && doc.kind, `${file}: apiVersion and kind`);
    if (doc.kind !== 'Kustomization') t.ok(doc.metadata?.name, `${file} ${doc.kind}: metadata.name`);
  }
  const kustomization = find('Kustomization');
  t.same([...kustomization.resources].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
  const kinds = docs.map((d) => d.doc.kind).sort();
  t.same(kinds, ['ConfigMap', 'Deployment', 'Deployment', 'Kustomization', 'Secret', 'Service', 'Service', 'ServiceMonitor']);
});

const configText: string = find('ConfigMap', 'ai-gateway-config').data['config.yaml'];
const loaded = parseConfig(configText, '/etc/ai-gateway/config.yaml', { ANTHROPIC_API_KEY: 'k', AI_GATEWAY_KEY_SECRET: 'a-long-enough-secret-for-keys-0123456789' });

t.test('the ConfigMap holds a config the gateway accepts, on the shared store', async (t) => {
  await resolvePlugins(loaded, builtinCatalog);
  t.equal(loaded.config.store?.type, 'redis');
  t.match(loaded.config.store?.redis?.url, /^redis:\/\/ai-gateway-redis:6379$/);
});

t.test('the Deployment: replicas, probes on /health, preStop drain, grace period past the drain timeout', async (t) => {
  const dep = find('Deployment', 'ai-gateway');
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  t.ok(dep.spec.replicas > 1, 'several replicas');
  t.same(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  t.equal(c.readinessProbe.httpGet.path, '/health');
  t.ok(c.livenessProbe, 'a liveness probe');
  const sleep = Number(c.lifecycle.preStop.exec.command[1]);
  t.ok(sleep > 0, 'preStop sleeps before SIGTERM');
  t.ok(pod.terminationGracePeriodSeconds > sleep + loaded.config.server.drain_timeout_ms / 1000, 'grace > preStop + drain_timeout');
  const mount = c.volumeMounts.find((m: Loose) => m.name === 'config');
  t.notOk(mount.subPath, 'mounted as a directory, not subPath, so ..data swaps arrive');
  t.equal(path.posix.join(mount.mountPath, 'config.yaml'), c.args[c.args.indexOf('--config') + 1]);
  // `args` without `command` would replace the image's CMD, and node's image entrypoint
  // would then run `node --config …`: the container must name the gateway itself, as the image does.
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.startsWith('CMD ')).pop() ?? '');
  t.ok(cmd, 'the Dockerfile ends with an exec-form CMD');
  t.same(c.command, JSON.parse(cmd![1]), 'the container runs the image CMD');
  t.equal(pod.volumes.find((v: Loose) => v.name === 'config').configMap.name, 'ai-gateway-config');
  t.equal(c.envFrom[0].secretRef.name, find('Secret').metadata.name);
  for (const key of ['ANTHROPIC_API_KEY', 'AI_GATEWAY_KEY_SECRET']) t.ok(key in find('Secret').stringData, `the Secret has ${key}`);
  // The root filesystem is read-only: the code cache directory is on a volume of the pod's, beneath its mount.
  const cacheDir = c.env.find((e: Loose) => e.name === 'AI_GATEWAY_CODE_CACHE_DIR').value;
  const cacheMount = c.volumeMounts.find((m: Loose) => cacheDir.startsWith(`${m.mountPath}/`));
  t.ok(cacheMount && !cacheMount.readOnly, `${cacheDir} is on a writable volume`);
  t.ok(pod.volumes.find((v: Loose) => v.name === cacheMount.name).emptyDir, 'an emptyDir');
  const ports = c.ports.map((p: Loose) => p.containerPort);
  t.ok(ports.includes(loaded.config.server.port) && ports.includes(loaded.config.server.admin?.port), 'container ports match the config');
});

t.test('Services and the ServiceMonitor select what exists', async (t) => {
  const dep = find('Deployment', 'ai-gateway');
  const svc = find('Service', 'ai-gateway');
  t.same(svc.spec.selector, dep.spec.template.metadata.labels);
  const monitor = find('ServiceMonitor');
  t.same(monitor.spec.selector.matchLabels, svc.metadata.labels);
  t.ok(svc.spec.ports.some((p: Loose) => p.name === monitor.spec.endpoints[0].port), 'the scraped port is named on the Service');
  const redis = find('Deployment', 'ai-gateway-redis');
  const redisSvc = find('Service', 'ai-gateway-redis');
  t.same(redisSvc.spec.selector, redis.spec.template.metadata.labels);
  t.equal(redisSvc.spec.ports[0].port, 6379);
});
