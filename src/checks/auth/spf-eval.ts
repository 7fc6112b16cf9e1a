/**
 * SPF evaluation (RFC 7208) through mailauth 4.13.3 with our resolver. MAIL FROM is the identity;
 * for the null sender (RFC 5321 §4.5.5) it is `postmaster@<HELO>` (RFC 7208 §2.4).
 */
import { spf as mailauthSpf } from './mailauth.js';
import type { AuthResult, SpfFact } from '../../core/facts.js';
import type { MailauthResolver } from './mailauth-resolver.js';

export interface SpfInput {
  readonly ip: string;
  readonly helo?: string;
  /** '' for the null sender. */
  readonly mailFrom: string;
  /** Our hostname, for the Received-SPF comment only. */
  readonly hostname: string;
  readonly resolver: MailauthResolver;
  /** RFC 7208 §4.6.4 limits (10 lookups, 2 void lookups). */
  readonly maxResolveCount?: number;
  readonly maxVoidCount?: number;
}

export interface SpfOutcome extends SpfFact {
  /** Checked identity: `mailfrom` or `helo` (null sender). */
  readonly identity: 'mailfrom' | 'helo';
  readonly sender: string;
  readonly comment?: string;
}

const RESULTS = new Set<AuthResult>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);

/** The target-name check mailauth 4.13.3 applies to every expanded name (lib/spf/index.js). */
const MAILAUTH_NAME = /^([\x20-\x2D\x2f-\x7e]+\.)+[a-z]+[a-z\-0-9]*$/i;
/** RFC 6761 §6.4: never exists, and our resolver answers it without a query. */
const NO_SUCH_HELO = 'helo-is-not-a-domain.invalid';

/**
 * %{h} for macro expansion. mailauth turns a target-name that is not a domain into permerror,
 * but RFC 7208 §4.8/§7.1 check syntax before expansion, so an expanded name that cannot be looked
 * up is simply a no-match (RFC 7208 suite: invalid-hello-macro, hello-domain-literal,
 * require-valid-helo). A HELO that is no domain (e.g. "[192.0.2.1]", "OEMCOMPUTER") therefore
 * expands to a name that never exists. Not for the null sender, where HELO is the identity itself
 * and an unusable one must give "none" (RFC 7208 §2.3, §4.3).
 */
function heloForMacros(helo: string): string {
  return MAILAUTH_NAME.test(helo) ? helo : NO_SUCH_HELO;
}

export async function evaluateSpf(i: SpfInput): Promise<SpfOutcome> {
  const identity = i.mailFrom === '' ? 'helo' : 'mailfrom';
  const helo = i.helo ?? '';
  const sender = identity === 'helo' ? `postmaster@${helo}` : i.mailFrom;
  const r = (await mailauthSpf({
    sender,
    ip: i.ip,
    helo: identity === 'helo' ? helo : heloForMacros(helo),
    mta: i.hostname,
    resolver: i.resolver,
    maxResolveCount: i.maxResolveCount,
    maxVoidCount: i.maxVoidCount,
  } as Parameters<typeof mailauthSpf>[0])) as { domain: string; status: { result: string; comment?: string } };
  const raw = r.status.result === 'temperr' ? 'temperror' : r.status.result;
  const result = (RESULTS.has(raw as AuthResult) ? raw : 'temperror') as AuthResult;
  return { result, domain: r.domain === '-' ? '' : r.domain, identity, sender, comment: r.status.comment || undefined };
}
