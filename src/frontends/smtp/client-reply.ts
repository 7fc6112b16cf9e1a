/**
 * Replies we give our SMTP client, as smtp-server wants them: a code and the text after it.
 * The text starts with the enhanced status code (RFC 3463) so smtp-server, which keeps
 * `hideENHANCEDSTATUSCODES` at its default, passes it through exactly (FIELD-NOTES §1).
 */
import { replyForDecision, type SmtpReply } from '../../core/replies.js';
import type { StageDecision } from '../../core/engine-api.js';
import { replyText, type SmtpServerReply } from './smtp-reply-reader.js';

export interface ClientReply {
  readonly code: number;
  /** Everything after the code, e.g. `5.1.1 <x@y>: Recipient address rejected` (one line, for logs too). */
  readonly text: string;
  /**
   * A multi-line reply (RFC 5321 §4.2.1): the text of each line, sent as `code-line` … `code line`.
   * Only for a downstream's own multi-line reply; `text` then holds the lines joined by spaces.
   */
  readonly lines?: readonly string[];
  /** Close the connection after the reply (smtp-server does so itself for 421). */
  readonly close?: boolean;
}

const CONTROL = /[\x00-\x1f\x7f]+/g;

export function fromTable(r: SmtpReply): ClientReply {
  return { code: r.code, text: `${r.enhanced} ${r.text}`.replace(CONTROL, ' '), ...(r.close ? { close: true } : {}) };
}

export function fromDecision(d: StageDecision): ClientReply {
  return fromTable(replyForDecision(d));
}

/** The downstream's own code and text, passed back verbatim, line for line. */
export function fromDownstream(r: SmtpServerReply): ClientReply {
  const text = replyText(r).replace(CONTROL, ' ');
  if (r.lines.length < 2) return { code: r.code, text };
  return { code: r.code, text, lines: r.lines.map((l) => l.replace(CONTROL, ' ')) };
}

/**
 * The Error smtp-server's hook callbacks take: `responseCode` + message (FIELD-NOTES §1).
 *
 * Multi-line: the callbacks hand `err.message` to smtp-server's `send(code, data)` unchanged, and
 * `send` writes an Array as a multi-line reply (`code-` on every line but the last, each line's
 * control characters replaced, smtp-server 3.21 `smtp-connection.js`). There is no other public
 * way to answer MAIL/RCPT/DATA with several lines, so the message is the array of lines; the
 * proxy-relay tests pin this behaviour down with real sockets.
 */
export function toSmtpError(r: ClientReply): Error & { responseCode: number } {
  const e = new Error(r.text) as Error & { responseCode: number };
  e.responseCode = r.code;
  if (r.lines && r.lines.length > 1) Object.defineProperty(e, 'message', { value: [...r.lines], enumerable: false, writable: true, configurable: true });
  return e;
}

/**
 * The end-of-DATA 250 as a multi-line reply: what the onData callback must be given so that
 * smtp-server 3.21 writes the downstream's lines as `250-…` … `250 …` (RFC 5321 §4.2.1).
 *
 * Its success path cannot: `callback(null, message)` sends a string as one `250` line, and an
 * Array as one *complete* reply per element (its LMTP per-recipient path, taken in SMTP mode too:
 * a string element becomes `250 <text>`), so `[line1, line2]` would put two replies on the wire
 * for one DATA and desynchronise the client. Its error path, `callback(err)`, calls
 * `send(err.responseCode || 450, err.message)` — the same call MAIL/RCPT refusals go through
 * (toSmtpError) — and nothing on that path depends on the code being an error: the transaction
 * ends and the session resets exactly as after a success (`close()` in `handler_DATA`), and only
 * a code ≥ 400 is recorded as `session.error`. So a 250 "error" with the lines as message is the
 * success reply, written through the public callback contract and no private internals.
 */
export function acceptedWithLines(r: ClientReply): Error & { responseCode: number } {
  return toSmtpError({ ...r, code: 250 });
}
