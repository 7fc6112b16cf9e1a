/**
 * DMARC identifier alignment (RFC 7489 §3.1), our own pure code because mailauth 4.x falls back to
 * relaxed matching under `adkim=s`/`aspf=s` (fixed only in 5.0.0, FIELD-NOTES §4).
 *
 * - strict (`s`): the authenticated domain must equal the RFC5322.From domain exactly;
 * - relaxed (`r`, default): their organizational domains (public-suffix list, RFC 7489 §3.2) match.
 */
import { getDomain } from 'tldts';

export type AlignMode = 'r' | 's';

const clean = (d: string) => d.trim().toLowerCase().replace(/\.$/, '');

/** Organizational domain; private PSL sections count too (as mailauth does), so a.github.io ≠ b.github.io. */
export function organizationalDomain(domain: string): string {
  const d = clean(domain);
  return getDomain(d, { allowIcannDomains: true, allowPrivateDomains: true }) ?? d;
}

export function aligned(authenticated: string, fromDomain: string, mode: AlignMode): boolean {
  const a = clean(authenticated);
  const f = clean(fromDomain);
  if (!a || !f) return false;
  if (mode === 's') return a === f;
  return organizationalDomain(a) === organizationalDomain(f);
}

export interface DkimCandidate {
  readonly domain: string;
  /** The signature verified. */
  readonly pass: boolean;
  /** l= left part of the body unsigned: no credit (RFC 6376 §8.2). */
  readonly partialBody?: boolean;
}

export interface AlignmentInput {
  readonly fromDomain: string;
  /** Domain SPF authenticated (MAIL FROM, or HELO for the null sender) when SPF passed. */
  readonly spfPassDomain?: string;
  readonly dkim: readonly DkimCandidate[];
  readonly adkim: AlignMode;
  readonly aspf: AlignMode;
}

export interface AlignmentOutcome {
  readonly pass: boolean;
  readonly spfAligned?: string;
  readonly dkimAligned?: string;
}

/** RFC 7489 §4.2: DMARC passes when at least one passing identifier is aligned. */
export function evaluateAlignment(i: AlignmentInput): AlignmentOutcome {
  const spfAligned = i.spfPassDomain && aligned(i.spfPassDomain, i.fromDomain, i.aspf) ? clean(i.spfPassDomain) : undefined;
  const dkim = i.dkim.find((d) => d.pass && !d.partialBody && aligned(d.domain, i.fromDomain, i.adkim));
  const dkimAligned = dkim ? clean(dkim.domain) : undefined;
  return { pass: spfAligned !== undefined || dkimAligned !== undefined, spfAligned, dkimAligned };
}

/** `adkim=`/`aspf=` tag value of a DMARC record (RFC 7489 §6.3); anything but `s` is relaxed. */
export function alignModeOf(record: string | undefined, tag: 'adkim' | 'aspf'): AlignMode {
  if (!record) return 'r';
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === tag) return part.slice(eq + 1).trim().toLowerCase() === 's' ? 's' : 'r';
  }
  return 'r';
}
