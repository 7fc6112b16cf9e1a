/**
 * The DNS layer's public face: every DNS-based check resolves only through this, so tests point it
 * at a local DNS server. (The DNS/auth work owns and refines this file.)
 */
export type RRType = 'A' | 'AAAA' | 'TXT' | 'MX' | 'PTR' | 'NS' | 'CNAME';

export interface DnsLookupOptions {
  readonly signal?: AbortSignal;
  /** Per-message budget key (the session id); lookups past the budget fail with code EBUDGET. */
  readonly budgetKey?: string;
}

export interface DnsResolver {
  /**
   * Same shapes as node's dns.promises.resolve* (TXT → string[][], MX → {exchange, priority}[]).
   * Throws errors with `.code` ENOTFOUND / ENODATA (none), ETIMEOUT, ESERVFAIL, EBUDGET.
   */
  resolve(name: string, type: RRType, opts?: DnsLookupOptions): Promise<unknown[]>;
  /**
   * Optional: forget a budget key when its message is done (keys also age out after 10 min idle).
   * Also throws ECANCELLED (signal aborted) and EREFUSED. A name that cannot exist in the DNS
   * (empty or > 63-octet label, > 253 octets) is ENOTFOUND without a query.
   */
  releaseBudget?(budgetKey: string): void;
}
