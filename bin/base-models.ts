/**
 * The base model id an audit line's model spells another way (a Bedrock `us.` profile or
 * ARN), as the running gateway read it into `ctx.baseModel`: the CLIs that price and judge
 * recorded requests (`replay`, `ledger rebuild`) then agree with the live gateway, whose
 * price or allowlist entry for the base id covered that spelling.
 */
import type { GatewayConfig } from '../core/index.js';
import { builtinProviders } from '../providers/index.js';

/** `provider` as an audit line names it (an instance name or a type), `model` as written. */
export type BaseModelOf = (provider: string | undefined, model: string) => string | undefined;

/** The built-in providers' `baseModel` readers, by the config's instance names and by type. */
export async function baseModelReader(config: Readonly<GatewayConfig>): Promise<BaseModelOf> {
  const byType = new Map<string, (model: string) => string | undefined>();
  for (const [type, load] of Object.entries(builtinProviders)) {
    const plugin = await load();
    if (plugin.baseModel) byType.set(type, plugin.baseModel);
  }
  return (provider, model) => {
    if (provider === undefined) return undefined;
    const read = byType.get(config.providers?.[provider]?.type ?? provider);
    return read?.(model);
  };
}
