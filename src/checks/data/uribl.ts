/**
 * `uribl` (data): URI blocklists (Spamhaus DBL, SURBL, URIBL style) on the links of the message.
 * Each link's registrable domain (public-suffix aware: tldts, via the parsed message model) is
 * asked once, in order of appearance, at most `maxDomains` per message; IP-literal links are asked
 * in reversed form on lists that take IPs (`ipv4`/`ipv6: true` on the list).
 *
 * Error answers never count: 127.255.255.0/24, 127.0.1.255 (DBL: "you queried an IP"), bit 1 on
 * bit-mask lists, and each list's errorCodes → URIBL_<LIST>_BLOCKED (0) + backoff, as for DNSBLs.
 */
import net from 'node:net';
import type { CheckFactory } from '../../core/services.js';
import type { Check } from '../../core/types.js';
import { parseMessage } from '../../message/index.js';
import { reverseIp, isPrivateIp } from '../../dns/reverse.js';
import { classifyListAnswer } from '../../dns/dnslist.js';
import { ListHealth } from '../../dns/list-health.js';
import { isNoRecords } from '../../dns/errors.js';
import { derivedSymbols } from '../connect/dnsbl.js';
import { budgetKeyFor } from '../../dns/budget-key.js';

/** DBL answers 127.0.1.255 when asked about an IP address: an error, never a listing. */
const URI_ERROR_CODES = ['127.0.1.255'];

interface Target {
  /** Label shown in the symbol options (domain or IP). */
  readonly shown: string;
  /** Name prefix to put before the zone. */
  readonly query: string;
  readonly family: 0 | 4 | 6;
}

/** Distinct lookup targets in order of appearance, capped. */
export function uriTargets(uris: readonly { host: string; domain: string; ipLiteral: boolean }[], max: number, ipLiterals: boolean): Target[] {
  const out: Target[] = [];
  const seen = new Set<string>();
  for (const u of uris) {
    if (out.length >= max) break;
    let t: Target | undefined;
    if (u.ipLiteral) {
      const fam = net.isIP(u.host);
      const rev = ipLiterals && fam && !isPrivateIp(u.host) ? reverseIp(u.host) : undefined;
      if (rev) t = { shown: u.host, query: rev, family: fam as 4 | 6 };
    } else if (u.domain) {
      t = { shown: u.domain, query: u.domain, family: 0 };
    }
    if (t && !seen.has(t.query)) {
      seen.add(t.query);
      out.push(t);
    }
  }
  return out;
}

export const uriblCheck: CheckFactory = ({ config, dns, metrics }) => {
  const cfg = config.checks.uribl;
  if (!cfg.enabled || cfg.lists.length === 0) return undefined;
  const lists = cfg.lists.map((l) => ({
    cfg: { ...l, errorCodes: [...l.errorCodes, ...URI_ERROR_CODES] },
    health: new ListHealth(l.name, cfg.backoffSec),
  }));
  const check: Check = {
    name: 'uribl',
    stage: 'data',
    timeoutMs: cfg.timeoutMs,
    symbols: cfg.lists.flatMap((l) => derivedSymbols(l, 'phishing', 'URIBL')),
    async run(ctx) {
      const message = ctx.session.message;
      if (!message) return;
      const parsed = await parseMessage(message);
      const targets = uriTargets(parsed.uris, cfg.maxDomains, cfg.ipLiterals);
      if (targets.length === 0) return;
      const budgetKey = budgetKeyFor(ctx);
      await Promise.all(
        lists.flatMap(({ cfg: l, health }) =>
          targets.map(async (t) => {
            if (health.downReason()) return;
            if ((t.family === 4 && !l.ipv4) || (t.family === 6 && !l.ipv6)) return;
            let answer: string[];
            try {
              answer = (await dns.resolve(`${t.query}.${l.zone}`, 'A', { signal: ctx.signal, budgetKey })) as string[];
            } catch (e) {
              if (!isNoRecords(e)) ctx.emit(`URIBL_${l.name}_DNSFAIL`, [(e as { code?: string }).code ?? 'error']);
              return;
            }
            const r = classifyListAnswer(answer, l);
            for (const h of r.hits) ctx.emit(h.symbol, [t.shown]);
            // 127.0.1.255 says "that was an IP, not a domain": our query's fault, not a refusal,
            // so it neither counts nor backs the list off.
            const refusals = r.errors.filter((c) => !URI_ERROR_CODES.includes(c));
            if (refusals.length < r.errors.length) ctx.log.debug({ list: l.name, target: t.shown }, 'URI list: IP queried on a domain list');
            if (refusals.length) {
              ctx.emit(`URIBL_${l.name}_BLOCKED`, refusals);
              metrics.dnsblBlocked.inc({ zone: l.name, reason: 'error_answer' });
              health.blocked();
            }
          }),
        ),
      );
    },
  };
  return check;
};
