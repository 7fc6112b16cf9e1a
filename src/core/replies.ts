/**
 * The only place that knows SMTP reply codes for verdicts and local failures
 * (ARCHITECTURE habit 8: protocol text only at the edges).
 * Enhanced status codes: RFC 3463; registry: https://www.iana.org/assignments/smtp-enhanced-status-codes
 */
import type { StageDecision } from './engine-api.js';

export interface SmtpReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
  /** Close the connection after sending (421). */
  readonly close?: boolean;
}

export const REPLIES = {
  /** Verdict reject (RFC 3463 5.7.1: delivery not authorised, message refused). */
  reject: { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam' },
  /** Greylisting: RFC 6647 recommends a 4xx "try again later". */
  greylist: { code: 451, enhanced: '4.7.1', text: 'Greylisted, please try again later' },
  /** Engine fault or fail-closed store. */
  tempfail: { code: 451, enhanced: '4.7.1', text: 'Temporary local problem, please try again later' },
  /** Downstream MTA unreachable, timing out, or dropped the connection (RFC 3463 4.4.1: no answer from host). */
  downstreamUnavailable: { code: 451, enhanced: '4.4.1', text: 'Downstream server unavailable, please try again later' },
  /** Bare CR/LF or NUL in DATA: SMTP smuggling defence (RFC 5321 §2.3.8, §4.1.1.4). */
  badLineEndings: { code: 550, enhanced: '5.6.0', text: 'Message contains bare CR, bare LF or NUL; refused (RFC 5321 section 2.3.8)' },
  /** Message over limits.maxMessageSize (RFC 1870). */
  tooBig: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed maximum message size' },
  /** Client or sender on a block list (`policy.blockIps`/`blockSenders`, global or per domain). */
  policyBlocked: { code: 550, enhanced: '5.7.1', text: 'Rejected by local policy' },
  /** Recipients of another per-domain policy than the transaction's first recipient. */
  otherPolicy: { code: 452, enhanced: '4.5.3', text: 'Recipients of another domain policy, please send them in a separate transaction' },
  /** Rate limit hit. */
  rateLimited: { code: 451, enhanced: '4.7.0', text: 'Rate limit exceeded, please try again later' },
  tooManyConnections: { code: 421, enhanced: '4.7.0', text: 'Too many connections, please try again later', close: true },
  shuttingDown: { code: 421, enhanced: '4.3.2', text: 'Service shutting down, please try again later', close: true },
} as const satisfies Record<string, SmtpReply>;

/** Reply for an engine stage decision. */
export function replyForDecision(d: StageDecision): SmtpReply {
  if (d.reply) return d.reply;
  const base = d.action === 'reject' ? REPLIES.reject : d.action === 'greylist' ? REPLIES.greylist : REPLIES.tempfail;
  return d.reason ? { ...base, text: `${base.text}: ${d.reason}` } : base;
}

/** One-line SMTP reply text: `550 5.7.1 text`. Control characters are flattened (no CRLF injection). */
export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text.replace(/[\x00-\x1f\x7f]+/g, ' ')}`;
}
