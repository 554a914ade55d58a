/**
 * A test filter plugin that records every request's outcome, so a test can check what
 * audit and accounting will see. Load it with `plugin: <absolute path of this file>`;
 * read with {@link outcomeFor}. Records live on `globalThis` so the gateway's import and
 * the test's import share them whatever module URL each resolved.
 */
import type { FilterPlugin, Identity, Outcome, RequestKind } from '../../core/index.js';

export interface RecordedOutcome {
  requestId: string;
  kind: RequestKind;
  model: string | undefined;
  maxOutputTokens: number | undefined;
  identity: Identity | undefined;
  outcome: Outcome;
}

const KEY = Symbol.for('ai-gateway.test.outcomes');
type Store = { items: RecordedOutcome[]; waiters: Array<() => void> };

function store(): Store {
  const g = globalThis as { [KEY]?: Store };
  return (g[KEY] ??= { items: [], waiters: [] });
}

export const OUTCOME_RECORDER_PATH = new URL(import.meta.url).pathname;

/** The outcome of request `requestId`, waiting up to `timeoutMs` for its `onComplete`. */
export async function outcomeFor(requestId: string, timeoutMs = 5000): Promise<RecordedOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = store().items.find((r) => r.requestId === requestId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no outcome recorded for request ${requestId}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 50);
      store().waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const recorder: FilterPlugin = {
  name: 'outcome-recorder',
  create: () => ({
    onComplete(ctx, outcome) {
      const s = store();
      s.items.push({ requestId: ctx.id, kind: ctx.kind, model: ctx.model, maxOutputTokens: ctx.maxOutputTokens, identity: ctx.identity, outcome });
      for (const w of s.waiters.splice(0)) w();
    },
  }),
};
export default recorder;
