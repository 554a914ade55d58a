/**
 * `network`: admits only clients from configured CIDR ranges (the seed's "gateway only
 * accessible from workspace network"). The client is the socket peer, or, behind a
 * trusted proxy, the address `X-Forwarded-For` names (see `matcher.ts`); a peer that is
 * not a trusted proxy cannot choose its address by sending the header. Refusals are 403
 * in the route's dialect and audited like every other rejection. Put it first in the
 * chain so nothing else runs for a refused client.
 */
import { CONTINUE, createKey, defineError, GatewayError, reply, type Filter, type FilterPlugin, type PluginEnv } from '../../core/index.js';
import { CidrSet, clientAddress, type Address } from './matcher.js';

defineError('GW_ERR_NETWORK_FORBIDDEN', { status: 403, category: 'permission', kind: 'rejected', message: 'This network may not use the gateway' });

/** Options under `filters[].config` for `network`. */
export interface NetworkConfig {
  /** Client ranges admitted, IPv4 and IPv6 (`10.0.0.0/8`, `fd00::/8`, a single address). */
  allow: string[];
  /** Proxies whose `X-Forwarded-For` is believed (load balancers, ingress). Empty: the header is ignored. */
  trusted_proxies: string[];
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allow: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['0.0.0.0/0', '::/0'] },
    trusted_proxies: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  },
} as const;

/** The client address the filter decided on, for later filters and plugins. */
export const CLIENT_ADDRESS = createKey<Address>('network.client');

function compile(name: string, cidrs: readonly string[]): CidrSet {
  try {
    return new CidrSet(cidrs);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

function createNetworkFilter(config: NetworkConfig, env: PluginEnv): Filter {
  const allow = compile('allow', config.allow);
  const trusted = compile('trusted_proxies', config.trusted_proxies);
  const refused = env.metrics.counter({ name: 'gateway_network_refusals_total', help: 'Requests refused because the client address is outside the allowed networks' });

  return {
    // Reads the peer address and X-Forwarded-For only.
    beforeParse: true,
    onRequest(ctx) {
      const client = clientAddress(ctx.remoteAddress, ctx.headers['x-forwarded-for'], trusted);
      if (client && allow.has(client)) {
        ctx.set(CLIENT_ADDRESS, client);
        return CONTINUE;
      }
      refused.inc();
      const who = client ? client.address : 'an unparseable X-Forwarded-For entry';
      env.log.debug('network refused', { request_id: ctx.id, client: who, peer: ctx.remoteAddress });
      return reply(new GatewayError('GW_ERR_NETWORK_FORBIDDEN', `Requests from ${who} are not allowed on this gateway`));
    },
  };
}

const network: FilterPlugin<NetworkConfig> = {
  name: 'network',
  apiVersion: 1,
  configSchema,
  create: createNetworkFilter,
};
export default network;
