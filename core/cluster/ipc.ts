/**
 * The messages between a cluster primary and its workers (JSON over the cluster IPC
 * channel). Every type starts with `gw:` so prom-client's own messages pass by.
 */

/** Worker → primary. */
export type WorkerMessage =
  | { t: 'gw:ready'; url: string; localUrl?: string; adminUrl?: string }
  | { t: 'gw:w:open'; h: number; module: string; exportName: string; key: string; options: unknown }
  | { t: 'gw:w:write'; h: number; records: unknown[] }
  | { t: 'gw:w:options'; h: number; options: unknown }
  | { t: 'gw:w:flush'; h: number; id: number }
  | { t: 'gw:w:close'; h: number; id: number }
  | { t: 'gw:metrics'; id: number };

/** Primary → worker. */
export type PrimaryMessage =
  | { t: 'gw:drain' }
  | { t: 'gw:reload' }
  | { t: 'gw:ack'; id: number; error?: string }
  | { t: 'gw:metrics:res'; id: number; text?: string; contentType?: string; error?: string };

export function isGatewayMessage<M extends { t: string }>(value: unknown): value is M {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string' && (value as { t: string }).t.startsWith('gw:');
}

/**
 * Exit code of a worker that could not start (bad config, port taken). Before the cluster
 * was first ready the primary gives up instead of restarting; after, it keeps retrying.
 */
export const WORKER_START_FAILED = 78;
