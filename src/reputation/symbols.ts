/** Reputation symbols: BAD/GOOD per kind (score × confidence weight) and one UNAVAILABLE per stage check. */
import type { SymbolDef } from '../core/types.js';
import type { ReputationKind } from '../store/stores-api.js';

const def = (name: string, score: number, description: string): SymbolDef => ({ name, score, description, category: 'reputation' });

export const REPUTATION_SYMBOLS: Record<ReputationKind, { bad: SymbolDef; good: SymbolDef }> = {
  ip: {
    bad: def('REPUTATION_IP_BAD', 3, 'Client IP sent mostly spam recently (weighted by confidence)'),
    good: def('REPUTATION_IP_GOOD', -2, 'Client IP sent mostly ham recently (weighted by confidence)'),
  },
  net: {
    bad: def('REPUTATION_NET_BAD', 2.5, 'Client /24 (/64) sent mostly spam recently, e.g. snowshoe rotation (weighted by confidence)'),
    good: def('REPUTATION_NET_GOOD', -1, 'Client /24 (/64) sent mostly ham recently (weighted by confidence)'),
  },
  helo: {
    bad: def('REPUTATION_HELO_BAD', 1.5, 'HELO name used mostly for spam recently (weighted by confidence)'),
    good: def('REPUTATION_HELO_GOOD', -0.5, 'HELO name used mostly for ham recently (weighted by confidence)'),
  },
  domain: {
    bad: def('REPUTATION_DOMAIN_BAD', 2.5, 'Envelope-sender domain sent mostly spam recently (weighted by confidence)'),
    good: def('REPUTATION_DOMAIN_GOOD', -1.5, 'Envelope-sender domain sent mostly ham recently (weighted by confidence)'),
  },
  dkim: {
    bad: def('REPUTATION_DKIM_BAD', 3, 'DKIM-aligned signing domain signed mostly spam recently (weighted by confidence)'),
    good: def('REPUTATION_DKIM_GOOD', -2, 'DKIM-aligned signing domain signed mostly ham recently (weighted by confidence)'),
  },
};

const unavailable = (name: string, what: string) => def(name, 0, `Reputation store unavailable at ${what} (Redis down or slow)`);
export const REPUTATION_UNAVAILABLE = {
  connect: unavailable('REPUTATION_UNAVAILABLE', 'connect (IP, network)'),
  helo: unavailable('REPUTATION_HELO_UNAVAILABLE', 'MAIL FROM (HELO name)'),
  mail: unavailable('REPUTATION_DOMAIN_UNAVAILABLE', 'MAIL FROM (sender domain)'),
  data: unavailable('REPUTATION_DKIM_UNAVAILABLE', 'DATA (DKIM domain)'),
};

/** Every reputation symbol name, so the learner can leave its own evidence out (no feedback loop). */
export const ALL_REPUTATION_SYMBOL_NAMES: ReadonlySet<string> = new Set(
  Object.values(REPUTATION_SYMBOLS).flatMap((s) => [s.bad.name, s.good.name]),
);
