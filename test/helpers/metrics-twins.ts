/**
 * Twin registries for comparing a fast metric with the prom-client metric it stands in
 * for: fed the same calls, both must give the same `/metrics` text, the same
 * `getMetricsAsJSON()` (what a cluster worker sends its primary) and the same text once
 * the primary has aggregated several workers' JSON.
 */
import type { RegistryContentType } from 'prom-client';
import { AggregatorRegistry, Registry } from '../../core/deps/prom-client.js';

export interface Twins {
  readonly prom: Registry;
  readonly fast: Registry;
}

export function twins(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE): Twins {
  const make = (): Registry => {
    const r = new Registry<RegistryContentType>();
    r.setContentType(contentType);
    // Typed as the Prometheus kind that metrics' `registers` take; it serves either format.
    return r as Registry;
  };
  return { prom: make(), fast: make() };
}

/** What a worker's registry looks like to the primary: JSON through the IPC channel. */
export async function overIpc(registry: Registry): Promise<object[]> {
  return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as object[];
}

/** The primary's text for these workers, as prom-client's AggregatorRegistry makes it. */
export async function aggregated(workers: readonly Registry[]): Promise<string> {
  const snapshots = await Promise.all(workers.map(overIpc));
  return AggregatorRegistry.aggregate(snapshots).metrics();
}

/** A value that spells label escaping out: quote, backslash, newline, and non-ASCII. */
export const NASTY = 'a "quoted" \\path\\ on\ntwo lines, ü';
