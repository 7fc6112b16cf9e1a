/**
 * DMARC (RFC 7489): mailauth 4.13.3 finds and parses the policy record (with the organizational-
 * domain fallback, §6.6.3); the pass/fail decision is then re-made by our own alignment code
 * because mailauth 4.x treats `adkim=s`/`aspf=s` as relaxed (FIELD-NOTES §4), and partial-body
 * DKIM signatures (l=) are never counted (RFC 6376 §8.2).
 */
import { dmarc as mailauthDmarc } from './mailauth.js';
import type { AuthResult } from '../../core/facts.js';
import type { MailauthResolver } from './mailauth-resolver.js';
import { evaluateAlignment, type DkimCandidate } from './alignment.js';

export interface DmarcOutcome {
  /** pass | fail | none | temperror | permerror (unusable From). */
  readonly result: AuthResult;
  /** Policy to apply on failure: `sp` for subdomains when published, else `p`; '' when no record. */
  readonly policy: string;
  /** RFC5322.From domain. */
  readonly domain: string;
  readonly strict?: { readonly adkim: boolean; readonly aspf: boolean };
  readonly alignedBy?: 'spf' | 'dkim';
}

interface RawDmarc {
  status: { result: string };
  policy?: string;
  p?: string;
  alignment?: { spf?: { strict?: boolean }; dkim?: { strict?: boolean } };
}

export async function evaluateDmarc(i: {
  readonly headerFrom: readonly string[];
  readonly spfPassDomain?: string;
  readonly dkim: readonly DkimCandidate[];
  readonly resolver: MailauthResolver;
}): Promise<DmarcOutcome> {
  // RFC 7489 §6.6.1: exactly one author domain, or DMARC cannot be applied.
  if (i.headerFrom.length !== 1) return { result: 'permerror', policy: '', domain: '' };
  const from = i.headerFrom[0]!;
  const fromDomain = from.slice(from.lastIndexOf('@') + 1).trim().toLowerCase();
  if (!fromDomain) return { result: 'permerror', policy: '', domain: '' };
  const raw = (await mailauthDmarc({
    headerFrom: from,
    spfDomains: i.spfPassDomain ? [i.spfPassDomain] : [],
    dkimDomains: i.dkim.filter((d) => d.pass && !d.partialBody).map((d) => ({ domain: d.domain })),
    resolver: i.resolver,
  })) as unknown as RawDmarc | false;
  if (!raw) return { result: 'permerror', policy: '', domain: fromDomain };
  const r = raw.status.result;
  if (r === 'temperror' || r === 'none') return { result: r, policy: '', domain: fromDomain };
  const adkim = raw.alignment?.dkim?.strict === true;
  const aspf = raw.alignment?.spf?.strict === true;
  const out = evaluateAlignment({
    fromDomain,
    spfPassDomain: i.spfPassDomain,
    dkim: i.dkim,
    adkim: adkim ? 's' : 'r',
    aspf: aspf ? 's' : 'r',
  });
  const policy = (raw.policy || raw.p || 'none').toLowerCase();
  return {
    result: out.pass ? 'pass' : 'fail',
    policy,
    domain: fromDomain,
    strict: { adkim, aspf },
    alignedBy: out.dkimAligned ? 'dkim' : out.spfAligned ? 'spf' : undefined,
  };
}
