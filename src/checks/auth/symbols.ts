/**
 * Authentication symbols, one per outcome, with rspamd's default weights (FIELD-NOTES §13,
 * rspamd conf/scores.d/policies_group.conf). Failures to look something up are 0-score *_DNSFAIL /
 * *_TEMPFAIL symbols: a DNS outage must never add spam points (ARCHITECTURE "Failure policy").
 */
import type { SymbolDef } from '../../core/types.js';

const auth = (name: string, score: number, description: string): SymbolDef => ({ name, score, description, category: 'auth' });

export const SPF_SYMBOLS = {
  pass: auth('R_SPF_ALLOW', -0.2, 'SPF pass: the sending IP is authorised (RFC 7208 §8.3)'),
  fail: auth('R_SPF_FAIL', 1.0, 'SPF fail: the domain says this IP is not authorised (RFC 7208 §8.4)'),
  softfail: auth('R_SPF_SOFTFAIL', 0.0, 'SPF softfail: probably not authorised (RFC 7208 §8.5)'),
  neutral: auth('R_SPF_NEUTRAL', 0.0, 'SPF neutral: the domain makes no assertion (RFC 7208 §8.2)'),
  none: auth('R_SPF_NA', 0.0, 'No SPF record, or no checkable domain (RFC 7208 §8.1)'),
  temperror: auth('R_SPF_DNSFAIL', 0.0, 'SPF temperror: DNS failure while evaluating (RFC 7208 §8.6)'),
  permerror: auth('R_SPF_PERMFAIL', 0.0, 'SPF permerror: broken record, too many lookups (RFC 7208 §8.7)'),
} as const;

export const DKIM_SYMBOLS = {
  allow: auth('R_DKIM_ALLOW', -0.2, 'A DKIM signature verified (options: signing domains)'),
  reject: auth('R_DKIM_REJECT', 1.0, 'A DKIM signature failed: bad signature or body hash mismatch'),
  tempfail: auth('R_DKIM_TEMPFAIL', 0.0, 'DKIM key lookup failed temporarily (DNS)'),
  permfail: auth('R_DKIM_PERMFAIL', 0.0, 'DKIM signature unverifiable: no/invalid/weak key, expired, malformed'),
  na: auth('R_DKIM_NA', 0.0, 'No DKIM signature'),
  partial: auth('DKIM_PARTIAL_BODY', 0.5, 'DKIM signature with l= leaves part of the body unsigned: no credit (RFC 6376 §8.2)'),
} as const;

export const DMARC_SYMBOLS = {
  allow: auth('DMARC_POLICY_ALLOW', -0.5, 'DMARC pass: an aligned SPF or DKIM identifier passed'),
  reject: auth('DMARC_POLICY_REJECT', 2.0, 'DMARC fail, the domain asks to reject'),
  quarantine: auth('DMARC_POLICY_QUARANTINE', 1.5, 'DMARC fail, the domain asks to quarantine'),
  softfail: auth('DMARC_POLICY_SOFTFAIL', 0.1, 'DMARC fail, the domain publishes p=none'),
  na: auth('DMARC_NA', 0.0, 'No DMARC record for the From domain'),
  dnsfail: auth('DMARC_DNSFAIL', 0.0, 'DMARC record lookup failed (DNS)'),
  bad: auth('DMARC_BAD_POLICY', 0.5, 'Unusable From for DMARC (none or several From addresses)'),
} as const;

export const ARC_SYMBOLS = {
  allow: auth('ARC_ALLOW', -1.0, 'ARC chain validated (RFC 8617)'),
  reject: auth('ARC_REJECT', 1.0, 'ARC chain broken or a seal failed'),
  na: auth('ARC_NA', 0.0, 'No ARC chain'),
  dnsfail: auth('ARC_DNSFAIL', 0.0, 'ARC key lookup failed (DNS)'),
} as const;
