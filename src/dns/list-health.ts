/**
 * Trust state of one DNS list (DNSBL/DNSWL/URI list), shared by the dnsbl and uribl checks.
 *
 * - Backoff: an error answer (127.255.255.x, …) means the operator refuses us (public resolver,
 *   over the free limit); asking again at once only adds load, so skip the list for `backoffSec`
 *   (SpamAssassin dns_block_time 300 s, FIELD-NOTES §6).
 * - Health: RFC 5782 §5 test points, probed periodically (not per message): for IP lists
 *   127.0.0.2 (and ::FFFF:7F00:2) MUST be listed and 127.0.0.1 MUST NOT; for domain lists TEST
 *   MUST be listed and INVALID MUST NOT. A list failing them — including one that answers
 *   everything as listed — is down until a later probe passes.
 */
import type { DnsResolver } from './resolver-api.js';
import { isNoRecords } from './errors.js';
import { isErrorAnswer, type DnsListSpec } from './dnslist.js';

export type ListKind = 'ip' | 'domain';

export class ListHealth {
  private backoffUntil = 0;
  private probeFailure: string | undefined;
  constructor(
    readonly name: string,
    private readonly backoffSec: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why the list is not used now, or undefined when it is usable. */
  downReason(): string | undefined {
    if (this.probeFailure) return this.probeFailure;
    if (this.now() < this.backoffUntil) return 'backoff';
    return undefined;
  }

  blocked(): void {
    this.backoffUntil = this.now() + this.backoffSec * 1000;
  }

  setProbe(failure: string | undefined): void {
    this.probeFailure = failure;
  }
}

/**
 * Runs the RFC 5782 §5 probes. Returns the failure reason, undefined when healthy, or 'dnsfail'
 * when the probes themselves could not be resolved (the caller keeps the previous state).
 */
export async function probeList(dns: DnsResolver, zone: string, kind: ListKind, spec: DnsListSpec, signal?: AbortSignal): Promise<string | undefined> {
  const [listedName, unlistedName] = kind === 'ip' ? [`2.0.0.127.${zone}`, `1.0.0.127.${zone}`] : [`test.${zone}`, `invalid.${zone}`];
  const ask = async (name: string): Promise<string[] | 'none' | 'fail'> => {
    try {
      return (await dns.resolve(name, 'A', { signal })) as string[];
    } catch (e) {
      return isNoRecords(e) ? 'none' : 'fail';
    }
  };
  const [listed, unlisted] = await Promise.all([ask(listedName), ask(unlistedName)]);
  if (listed === 'fail' || unlisted === 'fail') return 'dnsfail';
  if (listed !== 'none' && listed.some((c) => isErrorAnswer(c, spec))) return 'blocked';
  if (listed === 'none' || listed.length === 0) return 'test-point-not-listed';
  if (unlisted !== 'none' && unlisted.length > 0) return 'lists-everything';
  return undefined;
}
