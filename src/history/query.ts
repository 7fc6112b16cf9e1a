/** Reading the history for the CLI and the admin endpoint: filters and a one-line text form. */
import type { HistoryEntry, HistoryStore } from '../store/stores-api.js';
import { BOUNDS } from '../store/keys.js';

export interface HistoryQuery {
  readonly limit: number;
  /** Substring matches (case-insensitive) on the client IP, session id, or any envelope address. */
  readonly ip?: string;
  readonly session?: string;
  readonly address?: string;
}

export async function queryHistory(store: HistoryStore, q: HistoryQuery): Promise<HistoryEntry[]> {
  const filtered = q.ip || q.session || q.address;
  // With a filter, scan the whole (bounded) list; without, read just `limit` entries.
  const rows = await store.list(filtered ? BOUNDS.historyEntries : q.limit);
  if (!filtered) return rows;
  const has = (hay: string, needle?: string) => !needle || hay.toLowerCase().includes(needle.toLowerCase());
  return rows
    .filter((e) => has(e.clientIp, q.ip) && has(e.sessionId, q.session) && (!q.address || [e.mailFrom, ...e.rcptTo].some((a) => has(a, q.address))))
    .slice(0, q.limit);
}

/** `2026-01-01T10:00:00.000Z sess 192.0.2.1 reject 17.5 <a@b> -> <u@c> "Subject" SYM(4) SYM2(3)` */
export function formatHistoryLine(e: HistoryEntry): string {
  const syms = e.symbols.map((s) => `${s.name}(${s.score})`).join(' ');
  const subject = e.subject !== undefined ? ` ${JSON.stringify(e.subject)}` : '';
  const forced = e.forced ? ` forced[${e.forced}]` : '';
  const outcome = e.outcome ? ` => ${e.outcome}` : '';
  return `${new Date(e.time).toISOString()} ${e.sessionId} ${e.clientIp} ${e.action} ${e.score} <${e.mailFrom}> -> ${e.rcptTo
    .map((r) => `<${r}>`)
    .join(',')}${subject} ${syms}${forced}${outcome}`;
}
