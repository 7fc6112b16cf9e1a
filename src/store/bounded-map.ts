/**
 * The embedded store's map: entries expire at a deadline (checked against the caller's `now`,
 * so an injected clock drives expiry) and the oldest-written entry is evicted beyond `maxSize`
 * (Map keeps insertion order; a write re-inserts the key at the end).
 */
export class BoundedMap<V> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly maxSize: number) {}

  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** `ttlMs` = Infinity for entries bounded only by size. */
  set(key: string, value: V, now: number, ttlMs: number): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: now + ttlMs });
    while (this.map.size > this.maxSize) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
