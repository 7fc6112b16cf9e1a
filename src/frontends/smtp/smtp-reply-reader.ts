/**
 * Incremental reader of SMTP replies (RFC 5321 §4.2): `ddd-text` continuation lines, `ddd text` or
 * `ddd` as the last line. Pure: feed it bytes, it returns complete replies.
 */
export interface SmtpServerReply {
  readonly code: number;
  /** Text of each line after `ddd-`/`ddd ` (enhanced status code included when the server sent one). */
  readonly lines: readonly string[];
}

/** Single-line text of a reply, as we pass it on to our client (multi-line replies are joined). */
export function replyText(r: SmtpServerReply): string {
  return r.lines.map((l) => l.trim()).filter(Boolean).join(' ') || String(r.code);
}

export class ReplyProtocolError extends Error {}

/** A reply line longer than this is not SMTP (RFC 5321 §4.5.3.1.5 says 512 incl. CRLF; be lenient). */
const MAX_LINE = 4096;
/** Bound the lines of one multi-line reply (EHLO lists are ~20). */
const MAX_LINES = 256;

export class SmtpReplyReader {
  private buf = '';
  private lines: string[] = [];
  private code = 0;

  /** Returns the replies completed by this chunk; throws ReplyProtocolError on garbage. */
  push(chunk: Buffer): SmtpServerReply[] {
    this.buf += chunk.toString('utf8');
    const out: SmtpServerReply[] = [];
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) {
        if (this.buf.length > MAX_LINE) throw new ReplyProtocolError('reply line too long');
        return out;
      }
      // Servers must send CRLF; tolerate a bare LF on input (robustness principle, RFC 5321 §4.1.1.4 is about us).
      const line = this.buf.slice(0, nl > 0 && this.buf[nl - 1] === '\r' ? nl - 1 : nl);
      this.buf = this.buf.slice(nl + 1);
      const m = /^([2-5]\d\d)([ -]?)(.*)$/s.exec(line);
      if (!m) throw new ReplyProtocolError(`malformed reply line: ${JSON.stringify(line.slice(0, 80))}`);
      const code = Number(m[1]);
      if (this.lines.length && code !== this.code) throw new ReplyProtocolError('reply code changed within a multi-line reply');
      this.code = code;
      this.lines.push(m[3]!);
      if (this.lines.length > MAX_LINES) throw new ReplyProtocolError('multi-line reply too long');
      if (m[2] !== '-') {
        out.push({ code, lines: this.lines });
        this.lines = [];
        this.code = 0;
      }
    }
  }
}
