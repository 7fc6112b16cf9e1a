/**
 * Well-known facts shared between checks, the engine's tagging and the scan CLI.
 * A check publishes a fact with `ctx.facts.set(KEY, value)`; dependants declare `dependsOn`.
 */
import { factKey } from './types.js';

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface SpfFact {
  readonly result: AuthResult;
  /** Domain whose policy was evaluated (MAIL FROM domain, or HELO for the null sender). */
  readonly domain: string;
}
export interface DkimSignatureFact {
  readonly domain: string;
  readonly selector: string;
  readonly result: AuthResult;
  /** First 8 chars of b= for Authentication-Results header.b (RFC 6008). */
  readonly b?: string;
  /** Signature with l= that leaves part of the body unsigned: no credit (RFC 6376 §8.2). */
  readonly partialBody?: boolean;
}
export interface DmarcFact {
  readonly result: AuthResult;
  /** Published policy: reject | quarantine | none. */
  readonly policy: string;
  /** RFC5322.From domain. */
  readonly domain: string;
}
export interface ArcFact {
  readonly result: AuthResult;
}

/** `spamgate scan --json` prints these under "auth". */
export const SPF = factKey<SpfFact>('spf');
export const DKIM = factKey<readonly DkimSignatureFact[]>('dkim');
export const DMARC = factKey<DmarcFact>('dmarc');
export const ARC = factKey<ArcFact>('arc');

/**
 * The value (after `Authentication-Results: `) of the RFC 8601 header to prepend, authserv-id =
 * config.hostname. The engine's tagging prepends it first (trace field) and strips incoming
 * Authentication-Results that claim our authserv-id (RFC 8601 §5).
 */
export const AUTH_RESULTS = factKey<string>('auth_results');

/**
 * The client's reverse DNS as the `fcrdns` check publishes it (checks/connect/fcrdns.ts `RDNS`,
 * the same fact name): `hostname` is set only when forward-confirmed. Read by the engine for
 * FilterSession.verifiedClientName().
 */
export interface RdnsFact {
  readonly hostname?: string;
  readonly ptr: readonly string[];
}
export const RDNS_FACT = factKey<RdnsFact>('rdns');
