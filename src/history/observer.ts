/**
 * Records each verdict in the history list (a TransactionObserver), so an admin can answer "why
 * was this message rejected?" days later (`spamgate history`, admin `/history`). One LPUSH +
 * LTRIM + PEXPIRE, one round trip, fire-and-forget.
 */
import type { TransactionObserver, TransactionOutcome } from '../core/engine-api.js';
import type { SessionView, Verdict } from '../core/types.js';
import type { Config } from '../config/schema.js';
import type { HistoryEntry, Stores } from '../store/stores-api.js';
import { systemClock, type Clock } from '../store/unavailable.js';
import { parseMessage } from '../message/index.js';

const MAX_SUBJECT = 200;

/** Subject of the message; the parse is memoised per Buffer, so usually already done by the rules. */
export async function subjectOf(message: Buffer | undefined): Promise<string | undefined> {
  if (!message) return undefined;
  try {
    const s = (await parseMessage(message)).subject;
    return s ? s.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, MAX_SUBJECT) : undefined;
  } catch {
    return undefined;
  }
}

export function historyEntry(session: SessionView, verdict: Verdict, outcome: TransactionOutcome, time: number, subject?: string): HistoryEntry {
  return {
    time,
    sessionId: session.id,
    clientIp: session.client.ip,
    ...(session.helo !== undefined ? { helo: session.helo } : {}),
    mailFrom: session.envelope.mailFrom,
    rcptTo: [...session.envelope.rcptTo],
    ...(subject !== undefined ? { subject } : {}),
    score: verdict.score,
    action: verdict.action,
    symbols: verdict.symbols.map((s) => (s.options.length ? { name: s.name, score: s.score, options: [...s.options] } : { name: s.name, score: s.score })),
    outcome: `${outcome.code} ${outcome.text}`.slice(0, 300),
    ...(verdict.forced ? { forced: `${verdict.forced.by}: ${verdict.forced.reason}` } : {}),
  };
}

export function historyObserver(config: Config, stores: Stores, clock: Clock = systemClock): TransactionObserver | undefined {
  const cfg = config.checks.history;
  if (!cfg.enabled) return undefined;
  const bound = { maxEntries: cfg.maxEntries, ttlMs: cfg.ttlDays * 86_400_000 };
  return {
    name: 'history',
    async onTransaction(session, verdict, outcome) {
      const entry = historyEntry(session, verdict, outcome, clock(), await subjectOf(session.message));
      await stores.history.push(entry, bound).catch(() => undefined);
    },
  };
}
