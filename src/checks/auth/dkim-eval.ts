/**
 * DKIM verification (RFC 6376) of every signature through mailauth 4.13.3, mapped to our facts.
 *
 * Gaps closed here (FIELD-NOTES §4):
 * - a signature with `l=` that leaves body bytes unsigned (`status.underSized > 0`) verified only
 *   part of the body: anything appended after it is unauthenticated (RFC 6376 §8.2). It gets no
 *   credit: result `policy` + `partialBody`, never R_DKIM_ALLOW, and DMARC ignores it;
 * - a body-hash mismatch is reported by mailauth as `neutral`; RFC 6376 §6.1.3 makes it a failed
 *   verification, so it is `fail` here;
 * - mailauth 4.x leaves a `console.log('TOTAL', …)` in the l= path: filtered out (below) so it can
 *   never corrupt stdout (e.g. `spamgate scan --json`).
 */
import { dkimVerify } from './mailauth.js';
import type { AuthResult, DkimSignatureFact } from '../../core/facts.js';
import type { MailauthResolver } from './mailauth-resolver.js';

// A narrow, permanent filter rather than swapping console.log around each call: verifications of
// concurrent messages interleave, so a per-call swap would race. Only mailauth's exact debug line
// ('TOTAL', n, 'EXPECTING', m) is dropped; everything else passes through untouched.
const MARK = Symbol.for('spamgate.mailauthConsoleFilter');
const con = console as unknown as Record<symbol, boolean> & { log: (...a: unknown[]) => void };
if (!con[MARK]) {
  const original = console.log.bind(console);
  con.log = (...args: unknown[]) => {
    if (args.length === 4 && args[0] === 'TOTAL' && args[2] === 'EXPECTING') return;
    original(...args);
  };
  con[MARK] = true;
}

export interface DkimOutcome extends DkimSignatureFact {
  readonly comment?: string;
  readonly algo?: string;
}

export interface DkimEvaluation {
  readonly signatures: readonly DkimOutcome[];
  /** RFC5322.From addresses. */
  readonly headerFrom: readonly string[];
  /** Opaque ARC data for mailauth's arc(). */
  readonly arcData: unknown;
}

interface RawStatus {
  result: string;
  comment?: string;
  underSized?: number;
}
interface RawResult {
  signingDomain?: string;
  selector?: string;
  signature?: string;
  algo?: string;
  status: RawStatus;
}

export function mapDkimResult(r: RawResult): DkimOutcome | undefined {
  if (!r.signingDomain && r.status.result === 'none') return undefined; // mailauth's "no signature" placeholder
  const comment = r.status.comment;
  let result: AuthResult;
  switch (r.status.result) {
    case 'pass':
      result = 'pass';
      break;
    case 'fail':
      result = 'fail';
      break;
    case 'neutral':
      result = comment === 'body hash did not verify' ? 'fail' : /no key|invalid|unknown key/.test(comment ?? '') ? 'permerror' : 'neutral';
      break;
    case 'temperror':
    case 'temperr':
      result = 'temperror';
      break;
    case 'policy':
      result = 'policy';
      break;
    case 'permerror':
      result = 'permerror';
      break;
    default:
      result = 'neutral';
  }
  const partialBody = (r.status.underSized ?? 0) > 0;
  if (partialBody && result === 'pass') result = 'policy';
  return {
    domain: (r.signingDomain ?? '').toLowerCase(),
    selector: r.selector ?? '',
    result,
    b: r.signature ? r.signature.slice(0, 8) : undefined,
    partialBody: partialBody || undefined,
    comment: partialBody ? `${r.status.underSized} body bytes not covered by l=` : comment,
    algo: r.algo,
  };
}

export async function evaluateDkim(message: Buffer, opts: { resolver: MailauthResolver; minBitLength: number }): Promise<DkimEvaluation> {
  const v = await dkimVerify(message, { resolver: opts.resolver, minBitLength: opts.minBitLength });
  const signatures = (v.results as unknown as RawResult[]).map(mapDkimResult).filter((s): s is DkimOutcome => s !== undefined);
  return { signatures, headerFrom: v.headerFrom ?? [], arcData: v.arc };
}
