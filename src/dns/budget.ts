/**
 * Per-message DNS lookup budget (rspamd caps a message at 64 queries): a message with thousands of
 * links or a hostile SPF tree must not turn us into a DNS cannon. Counted per budget key (the
 * engine passes the session id, or session id + message number); only queries that go to the
 * network count, cache hits are free. Keys are forgotten after `idleMs` without use so a lost
 * `release()` cannot leak memory.
 */
export class QueryBudget {
  private readonly used = new Map<string, { n: number; touched: number }>();
  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
    private readonly idleMs = 10 * 60_000,
  ) {}

  /** Takes one query from the key's budget; false when it is spent. */
  take(key: string): boolean {
    const t = this.now();
    let e = this.used.get(key);
    if (!e) {
      if (this.used.size >= 10_000) this.sweep(t);
      e = { n: 0, touched: t };
      this.used.set(key, e);
    }
    e.touched = t;
    if (e.n >= this.max) return false;
    e.n++;
    return true;
  }

  spent(key: string): number {
    return this.used.get(key)?.n ?? 0;
  }

  release(key: string): void {
    this.used.delete(key);
  }

  private sweep(t: number): void {
    for (const [k, e] of this.used) if (t - e.touched > this.idleMs) this.used.delete(k);
  }
}
