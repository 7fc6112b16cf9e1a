/**
 * `dnsbl` (connect): DNS block and allow lists on the client IP, postscreen-style: every configured
 * list is asked in parallel (IPv4 reversed octets, IPv6 reversed nibbles, RFC 5782 §2), each
 * return code maps to its own symbol and weight (negative for DNSWL allow lists).
 *
 * Error answers (127.255.255.0/24 and per-list error codes) never count as listed: they emit the
 * 0-score RBL_<LIST>_BLOCKED symbol, count in spamgate_dnsbl_blocked_total and back the list off.
 * Periodic RFC 5782 §5 health probes take a broken list out of use. DNS failures are the 0-score
 * RBL_<LIST>_DNSFAIL symbol.
 */
import type { CheckFactory } from '../../core/services.js';
import type { Check, SymbolDef } from '../../core/types.js';
import type { DnsListConfig } from '../../config/sections/checks-dns.js';
import { reverseIp, isPrivateIp, unmapIPv4 } from '../../dns/reverse.js';
import { classifyListAnswer, listSymbols } from '../../dns/dnslist.js';
import { ListHealth, probeList } from '../../dns/list-health.js';
import { isNoRecords } from '../../dns/errors.js';
import net from 'node:net';
import { budgetKeyFor } from '../../dns/budget-key.js';

export interface DnsListCheck extends Check {
  /** Run the RFC 5782 health probes now (also run every healthIntervalSec). */
  probeNow(): Promise<void>;
}

export function derivedSymbols(list: DnsListConfig, category: string, prefix = 'RBL'): SymbolDef[] {
  return [
    ...listSymbols(list).map((s) => ({
      name: s.symbol,
      score: s.score,
      description: s.description ?? `Listed in ${list.name}`,
      category: s.score < 0 ? 'allowlist' : category,
    })),
    { name: `${prefix}_${list.name}_BLOCKED`, score: 0, description: `${list.name} refused to answer (error code such as 127.255.255.x); list backed off`, category: 'dns' },
    { name: `${prefix}_${list.name}_DNSFAIL`, score: 0, description: `${list.name} lookup failed (timeout, SERVFAIL)`, category: 'dns' },
  ];
}

export const dnsblCheck: CheckFactory = ({ config, dns, metrics, log }) => {
  const cfg = config.checks.dnsbl;
  if (!cfg.enabled || cfg.lists.length === 0) return undefined;
  const lists = cfg.lists.map((l) => ({ cfg: l, health: new ListHealth(l.name, cfg.backoffSec) }));
  let lastProbe = 0;

  async function probeNow(): Promise<void> {
    lastProbe = Date.now();
    await Promise.all(
      lists.map(async ({ cfg: l, health }) => {
        const failure = await probeList(dns, l.zone, 'ip', l);
        if (failure === 'dnsfail') return; // cannot tell: keep the previous state
        if (failure) {
          metrics.dnsblBlocked.inc({ zone: l.name, reason: `probe_${failure.replace(/-/g, '_')}` });
          log.warn({ list: l.name, failure }, 'DNS list failed its RFC 5782 health probe; not used until it passes');
        }
        health.setProbe(failure && `probe: ${failure}`);
      }),
    );
  }

  const check: DnsListCheck = {
    name: 'dnsbl',
    stage: 'connect',
    timeoutMs: cfg.timeoutMs,
    symbols: cfg.lists.flatMap((l) => derivedSymbols(l, 'network')),
    probeNow,
    async run(ctx) {
      if (cfg.healthIntervalSec > 0 && Date.now() - lastProbe > cfg.healthIntervalSec * 1000) {
        void probeNow().catch(() => undefined); // periodic, in the background, never per message
      }
      const ip = unmapIPv4(ctx.session.client.ip);
      const rev = reverseIp(ip);
      if (!rev || isPrivateIp(ip)) return;
      const v6 = net.isIPv6(ip);
      await Promise.all(
        lists.map(async ({ cfg: l, health }) => {
          if ((v6 && !l.ipv6) || (!v6 && !l.ipv4) || health.downReason()) return;
          let answer: string[];
          try {
            answer = (await dns.resolve(`${rev}.${l.zone}`, 'A', { signal: ctx.signal, budgetKey: budgetKeyFor(ctx) })) as string[];
          } catch (e) {
            if (!isNoRecords(e)) ctx.emit(`RBL_${l.name}_DNSFAIL`, [(e as { code?: string }).code ?? 'error']);
            return;
          }
          const r = classifyListAnswer(answer, l);
          for (const h of r.hits) ctx.emit(h.symbol, [h.code]);
          if (r.errors.length) {
            ctx.emit(`RBL_${l.name}_BLOCKED`, r.errors);
            metrics.dnsblBlocked.inc({ zone: l.name, reason: 'error_answer' });
            health.blocked();
            ctx.log.warn({ list: l.name, codes: r.errors }, 'DNS list answered with an error code (refused or rate limited); backing off');
          }
          if (r.unmapped.length) ctx.log.debug({ list: l.name, codes: r.unmapped }, 'unmapped DNS list return code');
        }),
      );
    },
  };
  return check;
};
