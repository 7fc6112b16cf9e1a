/**
 * One structured log line per SMTP transaction (and metrics for its duration): session id and
 * client come from the logger's bindings; envelope, verdict, our reply, the downstream's reply and
 * timings from here.
 */
import type { Logger } from 'pino';
import type { Verdict } from '../../core/types.js';
import type { ClientReply } from './client-reply.js';
import { replyText, type SmtpServerReply } from './smtp-reply-reader.js';

export interface Transaction {
  readonly started: number;
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly rejectedRcpts: { rcpt: string; code: number }[];
  readonly timings: Record<string, number>;
}

export interface TransactionInfo {
  readonly action: string;
  readonly size?: number;
  readonly reason?: string;
  readonly verdict?: Verdict;
  readonly reply?: ClientReply;
  readonly downstream?: SmtpServerReply;
}

export function newTransaction(mailFrom: string): Transaction {
  return { started: Date.now(), mailFrom, rcptTo: [], rejectedRcpts: [], timings: {} };
}

export function logTransaction(log: Logger, outcome: string, tx: Transaction, helo: string | undefined, info?: TransactionInfo): void {
  if (!log.isLevelEnabled('info')) return;
  const v = info?.verdict;
  log.info(
    {
      tx: outcome,
      ...(helo ? { helo } : {}),
      mailFrom: tx.mailFrom,
      rcptTo: tx.rcptTo,
      ...(tx.rejectedRcpts.length ? { rejectedRcpts: tx.rejectedRcpts } : {}),
      size: info?.size,
      action: info?.action,
      ...(info?.reason ? { reason: info.reason } : {}),
      ...(v ? { score: v.score, symbols: v.symbols.map((s) => `${s.name}(${s.score})`) } : {}),
      ...(info?.reply ? { reply: `${info.reply.code} ${info.reply.text}` } : {}),
      ...(info?.downstream ? { downstream: `${info.downstream.code} ${replyText(info.downstream)}` } : {}),
      timings: { ...tx.timings, totalMs: Date.now() - tx.started },
    },
    'transaction',
  );
}
