/**
 * The verdict: a pure function of the emitted symbols, their configured scores and the action
 * thresholds (ARCHITECTURE habit 1). Defaults as rspamd's `conf/actions.conf`: greylist 4, tag
 * (add_header) 6, reject 15.
 *
 * - Each symbol counts once: score × weight (the highest weight among its emissions).
 * - The total is rounded to 1/100 before comparing, so 0.1 + 0.2 + … never lands a hair under a
 *   threshold.
 * - Bands: score ≥ reject → reject; ≥ tag → tag; ≥ greylist → greylist; else accept. A greylist
 *   threshold at or above tag leaves no greylist band (how to switch greylisting off by score).
 * - Forced actions (allow/block lists, rate limits, fail-closed stores) override the score. When
 *   several are forced, the strictest wins: reject > tempfail > greylist > accept. So a block list
 *   beats an allow list, and an allow-listed sender is never greylisted by score.
 */
import type { ForcedAction } from './pipeline.js';
import type { Action, Emission, SymbolResult, Verdict } from './types.js';

export interface Thresholds {
  readonly greylist: number;
  readonly tag: number;
  readonly reject: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({ greylist: 4, tag: 6, reject: 15 });

/** Higher = stricter. `tag` relays, so it sits between accept and greylist. */
export const ACTION_SEVERITY: Readonly<Record<Action, number>> = { accept: 0, tag: 1, greylist: 2, tempfail: 3, reject: 4 };

export function strictest(a: Action, b: Action): Action {
  return ACTION_SEVERITY[b] > ACTION_SEVERITY[a] ? b : a;
}

/** The forced action that wins (strictest; first forced among equals), or undefined. */
export function winningForce(forced: readonly ForcedAction[]): ForcedAction | undefined {
  let win: ForcedAction | undefined;
  for (const f of forced) if (!win || ACTION_SEVERITY[f.action] > ACTION_SEVERITY[win.action]) win = f;
  return win;
}

export function round2(n: number): number {
  const r = Math.round(n * 100) / 100;
  return r === 0 ? 0 : r; // no -0 in output
}

/** The score band's action. */
export function actionForScore(score: number, t: Thresholds): Action {
  if (score >= t.reject) return 'reject';
  if (score >= t.tag) return 'tag';
  if (score >= t.greylist) return 'greylist';
  return 'accept';
}

export interface VerdictInput {
  readonly emissions: readonly Emission[];
  /** Configured score of a symbol; an unknown symbol scores 0. */
  readonly scoreOf: (name: string) => number | undefined;
  readonly thresholds: Thresholds;
  readonly forced?: readonly ForcedAction[];
}

export function computeVerdict(input: VerdictInput): Verdict {
  // A symbol emitted twice counts once: highest weight, options merged in order.
  const merged = new Map<string, { weight: number; options: string[] }>();
  for (const e of input.emissions) {
    const m = merged.get(e.name);
    if (!m) merged.set(e.name, { weight: e.weight, options: [...e.options] });
    else {
      m.weight = Math.max(m.weight, e.weight);
      for (const o of e.options) if (!m.options.includes(o)) m.options.push(o);
    }
  }
  const symbols: SymbolResult[] = [...merged].map(([name, m]) => ({
    name,
    score: round2((input.scoreOf(name) ?? 0) * m.weight),
    options: m.options,
  }));
  symbols.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const score = round2(symbols.reduce((s, x) => s + x.score, 0));
  const t = input.thresholds;
  const base = { score, required: t.tag, symbols };

  const force = winningForce(input.forced ?? []);
  if (force) return { ...base, action: force.action, forced: { by: force.by, reason: force.reason }, reason: force.reason };

  const action = actionForScore(score, t);
  return action === 'reject' ? { ...base, action, reason: `spam score ${score} reaches ${t.reject}` } : { ...base, action };
}
