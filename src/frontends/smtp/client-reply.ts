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
  /** Everything after the code, e.g. `5.1.1 <x@y>: Recipient address rejected`. */
  readonly text: string;
  /** Close the connection after the reply (smtp-server does so itself for 421). */
  readonly close?: boolean;
}

export function fromTable(r: SmtpReply): ClientReply {
  return { code: r.code, text: `${r.enhanced} ${r.text}`.replace(/[\x00-\x1f\x7f]+/g, ' '), ...(r.close ? { close: true } : {}) };
}

export function fromDecision(d: StageDecision): ClientReply {
  return fromTable(replyForDecision(d));
}

/** The downstream's own code and text, passed back verbatim (one line). */
export function fromDownstream(r: SmtpServerReply): ClientReply {
  return { code: r.code, text: replyText(r).replace(/[\x00-\x1f\x7f]+/g, ' ') };
}

/** The Error smtp-server's hook callbacks take: `responseCode` + message (FIELD-NOTES §1). */
export function toSmtpError(r: ClientReply): Error & { responseCode: number } {
  const e = new Error(r.text) as Error & { responseCode: number };
  e.responseCode = r.code;
  return e;
}
