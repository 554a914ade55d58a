/**
 * Series by (provider, model) when the model name comes from the client: any string it
 * sends becomes a label value, so without a cap one client could mint series (and
 * `/metrics` size, and Prometheus memory) without bound by inventing model names.
 */

/** Above this many (provider, model) pairs, new models are counted under `model="other"`. */
export const MAX_MODEL_SERIES = 500;

/**
 * The caller's series for a (provider, model) pair, made once per pair: the first
 * {@link MAX_MODEL_SERIES} pairs get their own, every later model shares its provider's
 * `model="other"` series. A series is whatever the caller records to (the children of one
 * metric or of several), so metrics kept together share one pair budget. After a pair's
 * first request, `get` is two Map hits.
 * @example
 * const byModel = new ModelSeries((provider, model) => cost.labels(provider, model)); // once, kept across reloads
 * byModel.get(outcome.provider, outcome.model).inc(usd);                               // per request
 */
export class ModelSeries<T> {
  /** provider → model → series, for at most `max` pairs. */
  private readonly byProvider = new Map<string, Map<string, T>>();
  private pairs = 0;
  /** provider → its `model="other"` series, once the pairs are used up. */
  private readonly other = new Map<string, T>();

  constructor(
    private readonly make: (provider: string, model: string) => T,
    private readonly max = MAX_MODEL_SERIES,
  ) {}

  get(provider: string, model: string): T {
    let byModel = this.byProvider.get(provider);
    if (!byModel) this.byProvider.set(provider, (byModel = new Map()));
    let s = byModel.get(model);
    if (s !== undefined) return s;
    if (this.pairs < this.max) {
      byModel.set(model, (s = this.make(provider, model)));
      this.pairs++;
      return s;
    }
    s = this.other.get(provider);
    if (s === undefined) this.other.set(provider, (s = this.make(provider, 'other')));
    return s;
  }
}
