/**
 * Budget threshold alerts: a log line, a metric and a webhook POST (JSON with a
 * Slack-compatible `text`). The store decides that a threshold fires (once per period,
 * across replicas); this module only announces it. Webhook delivery is off the request
 * path, retried with exponential backoff on network errors, 429 and 5xx.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Counter } from 'prom-client';
import type { Logger, MetricsFactory } from '../../core/index.js';
import type { Budget, WebhookConfig } from './config.js';

/** One threshold crossed for the first time in a period. */
export interface BudgetAlert {
  budget: Budget;
  threshold: number;
  periodStart: Date;
  periodEnd: Date;
  spentUsd: number;
}

/** The webhook's JSON body. */
export function alertPayload(a: BudgetAlert): Record<string, unknown> {
  const who = a.budget.scope === 'global' ? 'The gateway' : `${a.budget.scope === 'user' ? 'User' : 'Project'} "${a.budget.name}"`;
  const blocking = a.threshold >= 100 && a.budget.action === 'block';
  return {
    text: `${who} has used ${a.threshold}% of its ${a.budget.period === 'day' ? 'daily' : 'monthly'} AI budget: $${a.spentUsd.toFixed(2)} of $${a.budget.limitUsd.toFixed(2)}${blocking ? '; further requests are refused until the period resets' : ''}.`,
    event: 'budget_threshold',
    budget: { scope: a.budget.scope, name: a.budget.name, period: a.budget.period, limit_usd: a.budget.limitUsd, action: a.budget.action },
    threshold_percent: a.threshold,
    spent_usd: a.spentUsd,
    period_start: a.periodStart.toISOString(),
    period_end: a.periodEnd.toISOString(),
  };
}

export class Alerter {
  private readonly alerts: Counter<'scope' | 'period' | 'threshold'>;
  private readonly deliveries: Counter<'result'>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly webhook: WebhookConfig | undefined, private readonly log: Logger, metrics: MetricsFactory) {
    this.alerts = metrics.counter({ name: 'gateway_budget_alerts_total', help: 'Budget thresholds reached (each fires once per budget and period), by scope, period and threshold percent', labelNames: ['scope', 'period', 'threshold'] });
    this.deliveries = metrics.counter({ name: 'gateway_budget_webhook_deliveries_total', help: 'Budget alert webhook deliveries by result (ok, retry, failed)', labelNames: ['result'] });
  }

  fire(a: BudgetAlert): void {
    const payload = alertPayload(a);
    this.alerts.inc({ scope: a.budget.scope, period: a.budget.period, threshold: String(a.threshold) });
    this.log.warn('budget threshold reached', { scope: a.budget.scope, name: a.budget.name, period: a.budget.period, threshold_percent: a.threshold, spent_usd: a.spentUsd, limit_usd: a.budget.limitUsd, action: a.budget.action });
    if (!this.webhook) return;
    const p = this.deliver(this.webhook, payload).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async deliver(w: WebhookConfig, payload: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify(payload);
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      try {
        const res = await fetch(w.url, { method: 'POST', headers: { 'content-type': 'application/json', ...w.headers }, body, signal: AbortSignal.timeout(w.timeout_ms) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.deliveries.inc({ result: 'ok' });
          return;
        }
        reason = `status ${res.status}`;
        if (res.status !== 429 && res.status < 500) {
          this.deliveries.inc({ result: 'failed' });
          this.log.error('budget webhook refused the alert', { status: res.status });
          return;
        }
      } catch (err) {
        reason = (err as Error).message;
      }
      if (attempt >= w.retries) {
        this.deliveries.inc({ result: 'failed' });
        this.log.error('budget webhook failed; giving up', { attempts: attempt + 1, reason });
        return;
      }
      this.deliveries.inc({ result: 'retry' });
      await sleep(w.backoff_ms * 2 ** attempt);
    }
  }

  /** Wait for deliveries in progress (pipeline retirement). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
