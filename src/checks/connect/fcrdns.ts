/**
 * `fcrdns` (connect): forward-confirmed reverse DNS of the client (RFC 8601 §3 "iprev",
 * RFC 1912 §2.1): the PTR names of the client IP, then each name's A/AAAA must lead back to it.
 * No PTR at all is RDNS_NONE; PTR names that do not resolve back are FCRDNS_FAIL; DNS failures
 * are the 0-score RDNS_DNSFAIL. Publishes the confirmed name as the `rdns` fact.
 */
import net from 'node:net';
import type { CheckFactory } from '../../core/services.js';
import { factKey, type Check, type SymbolDef } from '../../core/types.js';
import { reverseIp, isPrivateIp } from '../../dns/reverse.js';
import { sameIp, canonicalIp } from '../../dns/same-ip.js';
import { isNoRecords } from '../../dns/errors.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

/** The client's forward-confirmed host name, or undefined when none. */
export const RDNS = factKey<{ readonly hostname?: string; readonly ptr: readonly string[] }>('rdns');

const sym = (name: string, score: number, description: string): SymbolDef => ({ name, score, description, category: 'network' });
export const FCRDNS_SYMBOLS = {
  none: sym('RDNS_NONE', 1.5, 'Client IP has no PTR record'),
  fail: sym('FCRDNS_FAIL', 1.0, 'No PTR name of the client IP resolves back to it'),
  ok: sym('FCRDNS_OK', 0, 'Client IP has forward-confirmed reverse DNS'),
  dnsfail: sym('RDNS_DNSFAIL', 0, 'Reverse DNS lookup failed (DNS)'),
} as const;

export const fcrdnsCheck: CheckFactory = ({ config, dns }) => {
  const cfg = config.checks.fcrdns;
  if (!cfg.enabled) return undefined;
  const check: Check = {
    name: 'fcrdns',
    stage: 'connect',
    timeoutMs: cfg.timeoutMs,
    symbols: Object.values(FCRDNS_SYMBOLS),
    async run(ctx) {
      const ip = canonicalIp(ctx.session.client.ip);
      const rev = reverseIp(ip);
      if (!rev || isPrivateIp(ip)) return;
      const v4 = net.isIPv4(ip);
      const opts = { signal: ctx.signal, budgetKey: budgetKeyFor(ctx) };
      let ptr: string[];
      try {
        ptr = (await dns.resolve(`${rev}.${v4 ? 'in-addr.arpa' : 'ip6.arpa'}`, 'PTR', opts)) as string[];
      } catch (e) {
        ctx.emit(isNoRecords(e) ? FCRDNS_SYMBOLS.none.name : FCRDNS_SYMBOLS.dnsfail.name);
        return;
      }
      const names = [...new Set(ptr.map((n) => n.toLowerCase().replace(/\.$/, '')))].slice(0, cfg.maxNames);
      let failures = 0;
      const confirmed = await Promise.all(
        names.map(async (n) => {
          try {
            const addrs = (await dns.resolve(n, v4 ? 'A' : 'AAAA', opts)) as string[];
            return addrs.some((a) => sameIp(a, ip)) ? n : undefined;
          } catch (e) {
            if (!isNoRecords(e)) failures++;
            return undefined;
          }
        }),
      );
      const hostname = confirmed.find((n) => n !== undefined);
      ctx.facts.set(RDNS, { hostname, ptr: names });
      if (hostname) ctx.emit(FCRDNS_SYMBOLS.ok.name, [hostname]);
      else if (failures > 0) ctx.emit(FCRDNS_SYMBOLS.dnsfail.name, names.slice(0, 3));
      else ctx.emit(FCRDNS_SYMBOLS.fail.name, names.slice(0, 3));
    },
  };
  return check;
};
