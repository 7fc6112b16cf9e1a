/**
 * Which token buckets a stage takes from (pure). Bucket ids are `<kind>:<value>`; keys.ts turns
 * them into Redis keys shared by every instance.
 *
 * - connect: per client IP and per /24 (/64) — connection rate;
 * - mail: per envelope sender (not the null sender: one bucket for all bounces would throttle
 *   every DSN the ISP receives) and per authenticated login when the front-end knows one;
 * - rcpt: per recipient address and per recipient domain, with per-domain overrides
 *   (`checks.ratelimit.domains`).
 */
import { factKey, type SessionView } from '../core/types.js';
import type { RatelimitCheckConfig } from '../config/sections/checks-store.js';
import { domainOf } from '../store/keys.js';
import { networkOf, normaliseIp } from '../store/ipnet.js';
import type { BucketSpec } from '../store/stores-api.js';

/**
 * Authenticated login of the submitting client, for a check or front-end that learns it some other
 * way (e.g. XCLIENT LOGIN=). Takes precedence over MAIL FROM `AUTH=` (see {@link authParam}).
 */
export const AUTH_LOGIN = factKey<string>('auth_login');

/**
 * The authenticated submitter named by MAIL FROM's `AUTH=<mailbox>` (RFC 4954 §5), or undefined
 * (absent, or `AUTH=<>`: submitter unknown or not authenticated). smtp-server has already decoded
 * the xtext. Only meaningful from a trusted client: the caller checks `upstream.trustAuthFrom` (RFC 4954
 * §5: a server must not trust AUTH= from a client it does not trust).
 */
export function authParam(s: SessionView): string | undefined {
  const v = s.envelope.mailParams?.['AUTH'];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t && t !== '<>' ? t : undefined;
}

export type BucketKind = 'ip' | 'net' | 'sender' | 'auth' | 'rcpt' | 'rcpt_domain';

export interface NamedBucket extends BucketSpec {
  readonly kind: BucketKind;
}

function spec(kind: BucketKind, value: string, b: { perMinute: number; burst: number } | undefined): NamedBucket[] {
  if (!b || b.perMinute <= 0 || !value) return [];
  return [{ kind, key: `${kind}:${value.toLowerCase()}`, ratePerSec: b.perMinute / 60, burst: b.burst }];
}

export function connectBuckets(cfg: RatelimitCheckConfig, s: SessionView): NamedBucket[] {
  return [...spec('ip', normaliseIp(s.client.ip), cfg.ip), ...spec('net', networkOf(s.client.ip), cfg.net)];
}

export function mailBuckets(cfg: RatelimitCheckConfig, s: SessionView, login: string | undefined): NamedBucket[] {
  return [...spec('sender', s.envelope.mailFrom, cfg.sender), ...spec('auth', login ?? '', cfg.auth)];
}

export function rcptBuckets(cfg: RatelimitCheckConfig, rcpt: string): NamedBucket[] {
  const domain = domainOf(rcpt);
  const over = cfg.domains[domain];
  return [...spec('rcpt', rcpt, over?.rcpt ?? cfg.rcpt), ...spec('rcpt_domain', domain, over?.rcpt_domain ?? cfg.rcpt_domain)];
}
