/**
 * Builds the value of the RFC 8601 Authentication-Results header field (after the colon), with
 * our hostname as authserv-id. Pure and table-tested. Results per method: SPF RFC 7208 §8 /
 * RFC 8601 §2.7.2, DKIM §2.7.1, DMARC RFC 7489 §11.2, ARC RFC 8617 §10.
 */
import type { AuthResult } from '../../core/facts.js';

export interface AuthResultsInput {
  readonly authservId: string;
  readonly spf?: { readonly result: AuthResult; readonly mailFrom: string; readonly helo?: string; readonly domain: string };
  readonly dkim?: readonly { readonly result: AuthResult; readonly domain: string; readonly selector: string; readonly b?: string; readonly comment?: string }[];
  readonly dmarc?: { readonly result: AuthResult; readonly policy: string; readonly domain: string };
  readonly arc?: { readonly result: AuthResult };
}

/** RFC 8601 §2.2 pvalue: a token/addr-spec as-is, else a quoted-string. */
function pvalue(v: string): string {
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.@]+$/.test(v) && !v.startsWith('@')) return v;
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

/** RFC 5322 §3.2.2 comment with the specials escaped. */
function comment(v: string | undefined): string {
  return v ? ` (${v.replace(/[\\()]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')})` : '';
}

export function buildAuthResults(i: AuthResultsInput): string {
  const parts: string[] = [];
  if (i.spf) {
    // The null sender's SPF identity is the HELO name (RFC 7208 §2.4).
    const prop = i.spf.mailFrom ? `smtp.mailfrom=${pvalue(i.spf.mailFrom)}` : `smtp.helo=${pvalue(i.spf.helo || i.spf.domain || 'unknown')}`;
    parts.push(`spf=${i.spf.result} ${prop}`);
  }
  if (i.dkim) {
    if (i.dkim.length === 0) parts.push('dkim=none');
    for (const d of i.dkim) {
      const props = [`header.d=${pvalue(d.domain)}`, `header.s=${pvalue(d.selector)}`];
      if (d.b) props.push(`header.b=${pvalue(d.b)}`);
      parts.push(`dkim=${d.result}${comment(d.comment)} ${props.join(' ')}`);
    }
  }
  if (i.arc) parts.push(`arc=${i.arc.result}`);
  if (i.dmarc) {
    const c = i.dmarc.policy ? `p=${i.dmarc.policy}` : undefined;
    parts.push(`dmarc=${i.dmarc.result}${comment(c)}${i.dmarc.domain ? ` header.from=${pvalue(i.dmarc.domain)}` : ''}`);
  }
  // RFC 8601 §2.2: "none" when no method produced a result. Folded between results (RFC 5322 §2.2.3).
  return parts.length === 0 ? `${i.authservId}; none` : `${i.authservId};\r\n\t${parts.join(';\r\n\t')}`;
}
