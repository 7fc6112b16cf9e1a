/**
 * Line-ending validator for message content (SMTP smuggling defence).
 *
 * RFC 5321 §2.3.8: CR and LF may appear in the content only together as CRLF; §4.1.1.4 the end of
 * data is CRLF.CRLF only. Receivers that honour another end-of-data sequence (`\n.\n`, `\r.\r`, …)
 * can be tricked into accepting a second, spoofed message (CVE-2023-51764/-51765/-51766). smtp-server
 * ends DATA only at CRLF.CRLF but hands bare CR/LF to us unchanged, so we refuse any message with
 * a bare CR, a bare LF or a NUL (RFC 5321 §4.5.2 excludes NUL from text): nothing that another MTA
 * could mistake for an end of data is ever relayed.
 *
 * Incremental: chunks may split a CRLF pair anywhere.
 */
export type LineEndingProblem = 'bare-lf' | 'bare-cr' | 'nul';

export class LineEndingValidator {
  private pendingCr = false;
  private problemFound: LineEndingProblem | undefined;

  /** First problem seen, if any. */
  get problem(): LineEndingProblem | undefined {
    return this.problemFound;
  }

  push(chunk: Buffer): void {
    if (this.problemFound) return;
    const n = chunk.length;
    if (n === 0) return;
    // Scanned as a one-byte string: String#indexOf runs inside V8 (SIMD search), where each
    // Buffer#indexOf is a call into C++; one per line adds up (a 10 KB message has ~130 lines).
    const s = chunk.toString('latin1');
    let i = 0;
    if (this.pendingCr) {
      if (s.charCodeAt(0) !== 0x0a) return this.fail('bare-cr');
      this.pendingCr = false;
      i = 1;
    }
    if (s.indexOf('\0', i) >= 0) return this.fail('nul');
    for (;;) {
      const cr = s.indexOf('\r', i);
      const lf = s.indexOf('\n', i);
      if (lf >= 0 && (cr < 0 || lf < cr)) return this.fail('bare-lf');
      if (cr < 0) return;
      if (cr === n - 1) {
        this.pendingCr = true;
        return;
      }
      if (s.charCodeAt(cr + 1) !== 0x0a) return this.fail('bare-cr');
      i = cr + 2;
    }
  }

  /** Call at end of data: a CR as the very last byte is bare too. */
  finish(): LineEndingProblem | undefined {
    if (!this.problemFound && this.pendingCr) this.fail('bare-cr');
    return this.problemFound;
  }

  private fail(p: LineEndingProblem): void {
    this.problemFound = p;
  }
}
