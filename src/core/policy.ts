/**
 * Per-recipient-domain policy (`policy.domains`) and the allow/block lists (`policy.*`).
 *
 * ISPs host many domains; each may set its own thresholds, allow/block lists and disabled checks.
 * Domains without an entry use the global policy. Entries are looked up by the recipient's domain
 * (lower-case), exactly first, then `*.parent` entries from the closest parent up.
 *
 * Several recipients with different policies: **one policy per SMTP transaction**. The first
 * accepted recipient fixes the transaction's policy; a later recipient whose domain maps to a
 * different policy gets `452 4.5.3` (REPLIES.otherPolicy). RFC 5321 §4.5.3.1.10 lets the client
 * send those recipients again in a new transaction (every MTA does), so every recipient gets exactly
 * its own domain's verdict and headers, with no second message invented by us. See docs/policy.md.
 *
 * List entries:
 * - networks: an IP or CIDR (IPv4-mapped IPv6 clients match IPv4 entries);
 * - senders: `user@dom` (that address), `dom` or `@dom` (that domain only), `*.dom` (dom and
 *   every subdomain); case-insensitive. The envelope sender is forgeable: prefer network entries.
 */
import net from 'node:net';
import type { Config } from '../config/schema.js';
import type { Thresholds } from './verdict.js';

export class NetworkList {
  private readonly v4 = new net.BlockList();
  private readonly v6 = new net.BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [addr = '', bits] = e.split('/');
      const type = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      const list = type === 'ipv6' ? this.v6 : this.v4;
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    this.size = entries.length;
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const plain = unmapIpv4(ip);
    const v = net.isIP(plain);
    if (v === 4) return this.v4.check(plain, 'ipv4');
    if (v === 6) return this.v6.check(plain, 'ipv6');
    return false;
  }
}

/** `::ffff:192.0.2.1` → `192.0.2.1` (RFC 4291 §2.5.5.2). */
export function unmapIpv4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** Domain part of an address, lower-case, without a trailing dot; '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase().replace(/\.$/, '');
}

export class SenderList {
  private readonly addresses = new Set<string>();
  private readonly domains = new Set<string>();
  private readonly trees = new Set<string>();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (e.startsWith('*.')) this.trees.add(e.slice(2));
      else if (e.startsWith('@')) this.domains.add(e.slice(1));
      else if (e.includes('@')) this.addresses.add(e);
      else this.domains.add(e);
    }
    this.size = entries.length;
  }

  /** The null sender (`''`) matches nothing. */
  has(address: string): boolean {
    if (this.size === 0 || !address) return false;
    const a = address.toLowerCase();
    if (this.addresses.has(a)) return true;
    const d = domainOf(a);
    if (!d) return false;
    if (this.domains.has(d)) return true;
    for (let p: string | undefined = d; p; p = parentDomain(p)) if (this.trees.has(p)) return true;
    return false;
  }
}

function parentDomain(d: string): string | undefined {
  const i = d.indexOf('.');
  return i < 0 ? undefined : d.slice(i + 1);
}

export interface PolicyLists {
  readonly allowIps: NetworkList;
  readonly blockIps: NetworkList;
  readonly allowSenders: SenderList;
  readonly blockSenders: SenderList;
}

export interface Policy {
  /** `*` for the global policy, else the `policy.domains` key that matched. */
  readonly key: string;
  readonly thresholds: Thresholds;
  /** The domain's own lists (empty for the global policy, whose lists are checked separately). */
  readonly lists: PolicyLists;
  readonly disabledChecks: ReadonlySet<string>;
}

export const GLOBAL_POLICY_KEY = '*';

function compileLists(l: { allowIps: string[]; blockIps: string[]; allowSenders: string[]; blockSenders: string[] }): PolicyLists {
  return {
    allowIps: new NetworkList(l.allowIps),
    blockIps: new NetworkList(l.blockIps),
    allowSenders: new SenderList(l.allowSenders),
    blockSenders: new SenderList(l.blockSenders),
  };
}

export class PolicyTable {
  readonly global: Policy;
  /** The global allow/block lists (`policy.allowIps` …), applied to every transaction. */
  readonly globalLists: PolicyLists;
  private readonly domains = new Map<string, Policy>();

  constructor(config: Pick<Config, 'actions' | 'policy'>) {
    const base: Thresholds = { greylist: config.actions.greylist, tag: config.actions.tag, reject: config.actions.reject };
    const empty = compileLists({ allowIps: [], blockIps: [], allowSenders: [], blockSenders: [] });
    this.global = { key: GLOBAL_POLICY_KEY, thresholds: base, lists: empty, disabledChecks: new Set() };
    this.globalLists = compileLists(config.policy);
    for (const [rawKey, d] of Object.entries(config.policy.domains)) {
      const key = rawKey.toLowerCase().replace(/\.$/, '');
      this.domains.set(key, {
        key,
        thresholds: { ...base, ...definedOnly(d.actions ?? {}) },
        lists: compileLists(d),
        disabledChecks: new Set(d.disabledChecks),
      });
    }
  }

  /** The policy for a recipient address (the global one when its domain has no entry). */
  forRecipient(address: string): Policy {
    const d = domainOf(address);
    if (!d) return this.global;
    const exact = this.domains.get(d);
    if (exact) return exact;
    for (let p: string | undefined = d; p; p = parentDomain(p)) {
      const w = this.domains.get(`*.${p}`);
      if (w) return w;
    }
    return this.global;
  }

  /** Every check name some domain disables (validated against the registry at boot). */
  disabledCheckNames(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const p of this.domains.values()) for (const c of p.disabledChecks) m.set(c, [...(m.get(c) ?? []), p.key]);
    return m;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
