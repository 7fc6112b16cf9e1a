/**
 * HELO/EHLO argument syntax (RFC 5321 §4.1.1.1 + §4.1.3): `Domain / address-literal`.
 * Pure and table-tested.
 *   Domain     = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]  (§4.1.2)
 *   address-literal = "[" ( IPv4-address-literal / "IPv6:" IPv6-addr / General-address-literal ) "]"
 */
import net from 'node:net';

export type HeloKind =
  | { readonly kind: 'domain'; readonly fqdn: boolean; readonly name: string }
  | { readonly kind: 'address-literal'; readonly ip: string }
  /** A bare IP without brackets: not valid syntax, but common enough to name on its own. */
  | { readonly kind: 'bare-ip'; readonly ip: string }
  | { readonly kind: 'invalid' };

const SUB_DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

export function classifyHelo(raw: string): HeloKind {
  const s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) {
    const inner = s.slice(1, -1);
    if (net.isIPv4(inner)) return { kind: 'address-literal', ip: inner };
    const v6 = /^IPv6:(.+)$/i.exec(inner);
    if (v6 && net.isIPv6(v6[1]!)) return { kind: 'address-literal', ip: v6[1]! };
    return { kind: 'invalid' };
  }
  if (net.isIP(s)) return { kind: 'bare-ip', ip: s };
  const name = s.replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return { kind: 'invalid' };
  const labels = name.split('.');
  if (!labels.every((l) => l.length <= 63 && SUB_DOMAIN.test(l))) return { kind: 'invalid' };
  // An all-numeric last label is no TLD (e.g. "1.2.3" or "mail.123"): not a usable name.
  const fqdn = labels.length >= 2 && !/^\d+$/.test(labels[labels.length - 1]!);
  return { kind: 'domain', fqdn, name: name.toLowerCase() };
}
