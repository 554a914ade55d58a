/**
 * Gateway endpoints that never touch a provider's API: `/health`, `/metrics`,
 * `/v1/providers`, and `<prefix>/health`. Not audited, no identity needed.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { GatewayResponse, GatewayRequest } from './handler.js';
import type { CompiledRoute, Pipeline, ProviderSlot } from './pipeline.js';
import type { ProviderHealth } from './types.js';

export interface OpsDeps {
  current(): Pipeline;
  metrics: GatewayMetrics;
  version: string;
  startedAt: Date;
  /** True once shutdown began: `/health` then answers 503 so load balancers stop sending. */
  draining(): boolean;
}

function sendJson(res: GatewayResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  (res as ServerResponse).writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function healthOf(slot: ProviderSlot): Promise<ProviderHealth> {
  if (!slot.provider.configured) return { status: 'unconfigured', detail: 'credentials missing' };
  try {
    return await slot.provider.health();
  } catch (err) {
    return { status: 'down', detail: (err as Error).message };
  }
}

/** The provider's own health, overridden while its circuit breaker refuses traffic, plus the circuit. */
async function effectiveHealth(p: Pipeline, slot: ProviderSlot): Promise<ProviderHealth & { circuit?: Record<string, unknown> }> {
  const own = await healthOf(slot);
  const circuit = p.resilience?.circuit(slot.name);
  if (!circuit) return own;
  if (circuit.state === 'open') return { status: 'down', detail: 'circuit breaker open', circuit };
  if (circuit.state === 'half_open' && own.status === 'ok') return { status: 'degraded', detail: 'circuit breaker half-open', circuit };
  return { ...own, circuit };
}

export function createOps(deps: OpsDeps) {
  async function health(res: GatewayResponse): Promise<void> {
    const p = deps.current();
    const providers: Record<string, unknown> = {};
    await Promise.all(
      [...p.providers.values()].map(async (slot) => {
        providers[slot.name] = { ...(await effectiveHealth(p, slot)), ...(slot.provider.diagnostic ? { diagnostic: true } : {}) };
      }),
    );
    const draining = deps.draining();
    sendJson(res, draining ? 503 : 200, {
      status: draining ? 'draining' : 'ok',
      version: deps.version,
      uptime_seconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      config: { hash: p.hash, file: p.loaded.file, loaded_at: p.loaded.loadedAt.toISOString(), generation: p.generation },
      providers,
    });
  }

  async function providers(res: GatewayResponse): Promise<void> {
    const p = deps.current();
    const list = await Promise.all(
      [...p.providers.values()].map(async (slot) => ({
        name: slot.name,
        type: slot.type,
        route_prefix: slot.prefix,
        configured: slot.provider.configured,
        ...(await effectiveHealth(p, slot).then((h) => ({ status: h.status, circuit: h.circuit }))),
        ...(slot.provider.diagnostic ? { diagnostic: true } : {}),
        models: slot.provider.models().map((m) => m.id),
        features: slot.provider.features,
        ...(slot.provider.describe?.() ?? {}),
      })),
    );
    sendJson(res, 200, { object: 'list', providers: list });
  }

  async function metrics(res: GatewayResponse): Promise<void> {
    const text = await deps.metrics.registry.metrics();
    (res as ServerResponse).writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    res.end(text);
  }

  function fail(res: GatewayResponse, err: unknown): void {
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'GW_ERR_INTERNAL', message: (err as Error).message } });
    else res.destroy();
  }

  return {
    operational(method: string, path: string, _req: GatewayRequest, res: GatewayResponse): boolean {
      if (method !== 'GET' && method !== 'HEAD') return false;
      let run: ((res: GatewayResponse) => Promise<void>) | undefined;
      if (path === '/health') run = health;
      else if (path === '/metrics') run = metrics;
      else if (path === '/v1/providers') run = providers;
      if (!run) return false;
      run(res).catch((err: unknown) => fail(res, err));
      return true;
    },
    providerHealth(route: CompiledRoute, res: GatewayResponse): void {
      const slot = route.provider!;
      effectiveHealth(deps.current(), slot)
        .then((h) => sendJson(res, h.status === 'ok' || h.status === 'degraded' ? 200 : 503, { provider: slot.name, type: slot.type, ...h, ...(slot.provider.diagnostic ? { diagnostic: true } : {}) }))
        .catch((err: unknown) => fail(res, err));
    },
  };
}
