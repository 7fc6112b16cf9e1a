/**
 * In-process TTL cache for DNS answers, positive and negative (RFC 2308 §5), bounded by entries
 * with least-recently-used eviction (a Map keeps insertion order; a hit re-inserts the entry).
 * The clock is injected so tests need no sleeps.
 */
export interface CacheEntry {
  readonly expiresAt: number;
  /** Records for a positive answer. */
  readonly records?: unknown[];
  /** ENOTFOUND / ENODATA for a negative answer. */
  readonly negative?: 'ENOTFOUND' | 'ENODATA';
}

export class DnsCache {
  private readonly map = new Map<string, CacheEntry>();
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(name: string, type: string): string {
    // Names compare case-insensitively (RFC 4343); a trailing dot names the same node.
    return `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
  }

  get(key: string): CacheEntry | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, e);
    return e;
  }

  set(key: string, entry: Omit<CacheEntry, 'expiresAt'>, ttlSec: number): void {
    if (this.maxEntries === 0 || ttlSec <= 0) return;
    this.map.delete(key);
    this.map.set(key, { ...entry, expiresAt: this.now() + ttlSec * 1000 });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
