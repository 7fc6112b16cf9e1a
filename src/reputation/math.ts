/**
 * Reputation arithmetic, pure (the Redis Lua script in store/redis-scripts.ts does the same).
 *
 * Decayed sums: every counter c stored at time t0 is worth c · 2^(−(t − t0)/H) at time t
 * (H = half-life). An update first decays, then adds the new sample, so the stored value is an
 * exponentially weighted sum of all past outcomes — one sample from H ago weighs ½, from 2H ¼.
 * Unlike a plain EMA of the spam ratio this keeps the *volume* (how much evidence), which the
 * confidence needs.
 *
 * From the decayed spam s, ham h and total n:
 *   badness  b = (s − h) / (s + h)                ∈ [−1, 1]  (0 when s + h = 0)
 *   confidence c = n / (n + K)                    ∈ [0, 1)   (K = checks.reputation.confidenceVolume)
 *   weight   w = |b| · c
 * A symbol fires (BAD if b > 0, GOOD if b < 0) when n ≥ minVolume and |b| ≥ minBadness; its
 * configured score is multiplied by w (the emit weight). So a new sender (n ≈ 0) is neutral, a
 * long-clean sender approaches the full GOOD score, and a /24 whose rotating IPs are each new
 * still accumulates volume on its `net` entry.
 */
import type { ReputationSample, ReputationStats } from '../store/stores-api.js';

export function decayFactor(now: number, updated: number, halfLifeMs: number): number {
  if (updated <= 0 || now <= updated) return 1;
  return Math.pow(2, -(now - updated) / halfLifeMs);
}

export function decayed(s: ReputationStats, now: number, halfLifeMs: number): ReputationStats {
  const f = decayFactor(now, s.updated, halfLifeMs);
  if (f === 1) return s;
  return { spam: s.spam * f, ham: s.ham * f, total: s.total * f, scoreSum: s.scoreSum * f, updated: s.updated };
}

export function addSample(s: ReputationStats, x: ReputationSample, now: number, halfLifeMs: number): ReputationStats {
  const d = decayed(s, now, halfLifeMs);
  return {
    spam: d.spam + x.spam,
    ham: d.ham + x.ham,
    total: d.total + 1,
    scoreSum: d.scoreSum + x.score,
    updated: Math.max(now, s.updated),
  };
}

export interface ReputationJudgement {
  readonly verdict: 'bad' | 'good' | 'neutral';
  /** Emit weight |b|·c, 0 for neutral. */
  readonly weight: number;
  readonly badness: number;
  readonly confidence: number;
}

export interface JudgeOptions {
  readonly confidenceVolume: number;
  readonly minVolume: number;
  readonly minBadness: number;
}

export function judge(s: ReputationStats, o: JudgeOptions): ReputationJudgement {
  const decided = s.spam + s.ham;
  const badness = decided > 0 ? (s.spam - s.ham) / decided : 0;
  const confidence = s.total > 0 ? s.total / (s.total + o.confidenceVolume) : 0;
  if (s.total < o.minVolume || Math.abs(badness) < o.minBadness || decided <= 0) {
    return { verdict: 'neutral', weight: 0, badness, confidence };
  }
  return { verdict: badness > 0 ? 'bad' : 'good', weight: round3(Math.abs(badness) * confidence), badness, confidence };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
