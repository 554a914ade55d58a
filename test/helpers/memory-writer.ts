/** A single-writer kind that records what reached it, for the writer-host tests. */
import { defineWriterKind } from '../../core/index.js';

export interface MemoryWriterLog {
  created: number;
  records: unknown[];
  events: string[];
}

/** Per key, what the writers created for it saw. */
export const memoryWriterLogs = new Map<string, MemoryWriterLog>();

export const memoryWriterKind = defineWriterKind<unknown, { name: string; tag?: string }>(import.meta.url, 'memoryWriterKind', (o) => {
  let log = memoryWriterLogs.get(o.name);
  if (!log) memoryWriterLogs.set(o.name, (log = { created: 0, records: [], events: [] }));
  const seen = log;
  seen.created++;
  if (o.tag) seen.events.push(`created:${o.tag}`);
  return {
    write: (r) => void seen.records.push(r),
    reconfigure: (next) => void seen.events.push(`options:${next.tag}`),
    flush: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.events.push(`flush:${seen.records.length}`);
    },
    close: async () => void seen.events.push(`close:${seen.records.length}`),
  };
});
