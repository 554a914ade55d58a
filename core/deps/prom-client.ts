/**
 * The `prom-client` values the gateway uses, loaded through {@link loadBundled} (one file
 * at start-up, not 88). Every value import of prom-client goes through here, so one copy
 * of its classes is in use (its cluster aggregation checks `instanceof Registry`); type
 * imports may name the package directly.
 */
import type * as Prom from 'prom-client';
import { loadBundled, type PROM_CLIENT_PARTS } from './bundled.js';

// The bundle holds only these: a name used here must be listed in PROM_CLIENT_PARTS.
const prom = loadBundled<Pick<typeof Prom, keyof typeof PROM_CLIENT_PARTS>>('prom-client');

export const { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom;
export type AggregatorRegistry<T extends Prom.RegistryContentType> = Prom.AggregatorRegistry<T>;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type Registry<T extends Prom.RegistryContentType = Prom.PrometheusContentType> = Prom.Registry<T>;
