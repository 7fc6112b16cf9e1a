/**
 * The DNS layer every DNS-based check goes through: configured servers (`dns.servers`, the ISP's
 * own recursive resolvers — public DNSBLs refuse public resolvers), a per-query deadline, an
 * in-process TTL cache (positive and negative, RFC 2308), a per-message lookup budget, concurrent
 * lookups (identical in-flight questions share one query), and metrics.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { toHostPort, type HostPort } from '../config/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DnsLookupOptions, DnsResolver, RRType } from './resolver-api.js';
import { DnsCache } from './cache.js';
import { QueryBudget } from './budget.js';
import { DnsError } from './errors.js';
import { interpret, type Outcome } from './answer.js';
import { isTruncated, queryTcp, queryUdp, WireAborted, WireTimeout } from './wire-client.js';
import { systemServers } from './system-servers.js';

export type { DnsResolver, RRType, DnsLookupOptions } from './resolver-api.js';
export { DnsError, isNoRecords } from './errors.js';

export interface DnsDeps {
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Injected clock for cache/budget tests. */
  readonly now?: () => number;
}

export interface CachingDnsResolver extends DnsResolver {
  /** Forget a message's budget once it is done (else it ages out). */
  releaseBudget(key: string): void;
  /** Queries charged to a budget key so far. */
  budgetSpent(key: string): number;
  clearCache(): void;
}

/** Set by the test suite's jest setup (inherited by CLIs the tests spawn). */
const LOOPBACK_ONLY = process.env.SPAMGATE_DNS_LOOPBACK_ONLY === '1';
function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || /^127\./.test(host);
}

const VALID_NAME = /^(?=.{1,253}\.?$)([^.]{1,63}\.)*[^.]{1,63}\.?$/;

export function createDnsResolver(cfg: Config['dns'], deps: DnsDeps): CachingDnsResolver {
  const now = deps.now ?? Date.now;
  const servers: HostPort[] = cfg.servers.length > 0 ? cfg.servers.map(toHostPort) : systemServers();
  const cache = new DnsCache(cfg.cacheSize, now);
  const budget = new QueryBudget(cfg.maxQueriesPerMessage, now);
  const inFlight = new Map<string, Promise<Outcome>>();
  let rr = 0;

  async function ask(name: string, type: RRType, signal: AbortSignal | undefined): Promise<Outcome> {
    // RFC 1035 §4.2.1 retransmission: split the per-query deadline over ≥ 2 attempts, rotating
    // through the configured servers; a SERVFAIL/REFUSED also moves on to the next server.
    const attempts = Math.max(2, servers.length);
    const perAttempt = Math.max(1, Math.floor(cfg.timeoutMs / attempts));
    let last: Outcome = { kind: 'error', code: 'ETIMEOUT' };
    const start = rr++;
    for (let i = 0; i < attempts; i++) {
      const server = servers[(start + i) % servers.length]!;
      if (LOOPBACK_ONLY && !isLoopback(server.host)) {
        // Test safety net: under the test suite no query may leave the machine (only loopback
        // addresses may be targets of test traffic), whatever a test's config says.
        deps.log.warn({ server: server.host }, 'non-loopback DNS server refused (SPAMGATE_DNS_LOOPBACK_ONLY)');
        last = { kind: 'error', code: 'EREFUSED' };
        continue;
      }
      try {
        let p = await queryUdp(server, name, type, { ms: perAttempt, signal });
        if (isTruncated(p) && cfg.tcpFallback) p = await queryTcp(server, name, type, { ms: perAttempt, signal });
        const out = interpret(p, type);
        if (out.kind !== 'error') return out;
        last = out;
      } catch (e) {
        if (e instanceof WireAborted) return { kind: 'error', code: 'ECANCELLED' };
        if (!(e instanceof WireTimeout)) deps.log.debug({ err: (e as Error).message, server: `${server.host}:${server.port}` }, 'dns query failed');
        last = { kind: 'error', code: 'ETIMEOUT' };
      }
    }
    return last;
  }

  /** One network query per (name, type) at a time: concurrent askers share it (cold-cache bursts). */
  function lookup(name: string, type: RRType, key: string): Promise<Outcome> {
    const shared = inFlight.get(key);
    if (shared) return shared;
    const started = process.hrtime.bigint();
    // The shared query runs without any one caller's signal (each caller can still stop waiting,
    // see `waitFor`); it is bounded by the per-query deadline anyway.
    const p = ask(name, type, undefined).then((out) => {
      deps.metrics.dnsDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      const result = out.kind === 'records' ? 'ok' : out.code === 'ENOTFOUND' ? 'nxdomain' : out.code === 'ENODATA' ? 'nodata' : out.code.slice(1).toLowerCase();
      deps.metrics.dnsQueries.inc({ type, result });
      if (out.kind === 'records') cache.set(key, { records: out.records }, Math.min(out.ttlSec, cfg.maxTtlSec));
      else if (out.kind === 'negative')
        cache.set(key, { negative: out.code }, Math.min(out.ttlSec ?? cfg.negativeTtlSec, cfg.maxNegativeTtlSec));
      return out;
    });
    inFlight.set(key, p);
    void p.finally(() => inFlight.delete(key));
    return p;
  }

  function waitFor(p: Promise<Outcome>, signal: AbortSignal | undefined): Promise<Outcome> {
    if (!signal) return p;
    if (signal.aborted) return Promise.resolve({ kind: 'error', code: 'ECANCELLED' });
    return new Promise<Outcome>((resolve) => {
      const onAbort = () => resolve({ kind: 'error', code: 'ECANCELLED' });
      signal.addEventListener('abort', onAbort, { once: true });
      void p.then((out) => {
        signal.removeEventListener('abort', onAbort);
        resolve(out);
      });
    });
  }

  return {
    async resolve(name: string, type: RRType, opts: DnsLookupOptions = {}): Promise<unknown[]> {
      // A name with an empty or > 63-octet label cannot exist in the DNS (RFC 1035 §2.3.4): answer
      // "no such name" without asking. SPF relies on this (RFC 7208 §4.8: such a target is a no-match).
      if (!VALID_NAME.test(name)) throw DnsError.negative('ENOTFOUND', name, type, 'not a valid domain name');
      // RFC 6761 §6.4: .invalid never exists; answer at once, no query.
      if (/(^|\.)invalid\.?$/i.test(name)) throw DnsError.negative('ENOTFOUND', name, type, 'the .invalid TLD (RFC 6761)');
      const key = DnsCache.key(name, type);
      const hit = cache.get(key);
      deps.metrics.dnsCache.inc({ result: hit ? 'hit' : 'miss' });
      if (hit) {
        if (hit.negative) throw DnsError.negative(hit.negative, name, type);
        return hit.records!.slice();
      }
      if (opts.budgetKey !== undefined && !budget.take(opts.budgetKey)) {
        deps.metrics.dnsQueries.inc({ type, result: 'budget' });
        throw new DnsError('EBUDGET', name, type, `more than ${cfg.maxQueriesPerMessage} queries for this message`);
      }
      const out = await waitFor(lookup(name.replace(/\.$/, ''), type, key), opts.signal);
      if (out.kind === 'records') return out.records.slice();
      throw DnsError.of(out.code, name, type);
    },
    releaseBudget: (key) => budget.release(key),
    budgetSpent: (key) => budget.spent(key),
    clearCache: () => cache.clear(),
  };
}
