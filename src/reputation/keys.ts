/**
 * Which reputation entries a session touches: client IP and its /24 (/64) at connect, HELO,
 * envelope-sender domain at MAIL, DKIM signing domains aligned with the From domain at DATA.
 */
import { DKIM, DMARC } from '../core/facts.js';
import type { Facts, SessionView } from '../core/types.js';
import { aligned } from '../checks/auth/alignment.js';
import { domainOf } from '../store/keys.js';
import { networkOf, normaliseIp } from '../store/ipnet.js';
import type { ReputationKey } from '../store/stores-api.js';

/** Client IP and network, unless `skip` says the client is in `skipNetworks` (loopback by default). */
export function connectKeys(s: SessionView, skip: (ip: string) => boolean = () => false): ReputationKey[] {
  if (skip(s.client.ip)) return [];
  const net = networkOf(s.client.ip);
  return net ? [{ kind: 'ip', value: normaliseIp(s.client.ip) }, { kind: 'net', value: net }] : [];
}

export function heloKeys(s: SessionView): ReputationKey[] {
  const h = s.helo?.trim().toLowerCase().replace(/\.$/, '');
  return h ? [{ kind: 'helo', value: h }] : [];
}

/** The null sender (bounces) has no domain to judge. */
export function senderKeys(s: SessionView): ReputationKey[] {
  const d = domainOf(s.envelope.mailFrom);
  return d ? [{ kind: 'domain', value: d }] : [];
}

/**
 * Passing, whole-body DKIM signatures whose domain is aligned (relaxed, RFC 7489 §3.1.1) with the
 * RFC5322.From domain from the DMARC fact. Unaligned signatures say nothing about the author
 * domain and are easy to mint, so they are not tracked.
 */
export function dkimKeys(facts: Facts): ReputationKey[] {
  const from = facts.get(DMARC)?.domain;
  if (!from) return [];
  const out = new Set<string>();
  for (const sig of facts.get(DKIM) ?? []) {
    if (sig.result === 'pass' && !sig.partialBody && aligned(sig.domain, from, 'r')) out.add(sig.domain.toLowerCase().replace(/\.$/, ''));
  }
  return [...out].map((value) => ({ kind: 'dkim', value }));
}

export function transactionKeys(s: SessionView, facts: Facts, skip?: (ip: string) => boolean): ReputationKey[] {
  return [...connectKeys(s, skip), ...heloKeys(s), ...senderKeys(s), ...dkimKeys(facts)];
}
