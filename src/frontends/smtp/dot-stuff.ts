/**
 * Dot-stuffing for the DATA we send downstream (RFC 5321 §4.5.2): a line starting with "." gets
 * one more "."; the content ends with CRLF "." CRLF. Input is validated content (CRLF line endings
 * only), possibly split over several buffers; output slices the input (no copy of the body).
 */
const DOT = Buffer.from('.');
const CRLF_DOT = Buffer.from('\r\n.');
const END = Buffer.from('.\r\n');
const CRLF_END = Buffer.from('\r\n.\r\n');

export function dotStuff(parts: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  // The two bytes written just before the current position; start of data counts as a line start.
  let b1 = 0x0d;
  let b2 = 0x0a;
  for (const part of parts) {
    const len = part.length;
    if (len === 0) continue;
    let start = 0;
    // A dot at offset 0 or 1 may follow a CRLF that straddles the previous buffer.
    if (part[0] === 0x2e && b1 === 0x0d && b2 === 0x0a) {
      out.push(DOT);
    }
    if (len > 1 && part[1] === 0x2e && b2 === 0x0d && part[0] === 0x0a) {
      out.push(part.subarray(0, 1), DOT);
      start = 1;
    }
    let from = 0;
    for (;;) {
      const i = part.indexOf(CRLF_DOT, from);
      if (i < 0) break;
      out.push(part.subarray(start, i + 2), DOT);
      start = i + 2;
      from = i + 2;
    }
    out.push(start === 0 ? part : part.subarray(start));
    if (len >= 2) {
      b1 = part[len - 2]!;
      b2 = part[len - 1]!;
    } else {
      b1 = b2;
      b2 = part[0]!;
    }
  }
  // Content that does not end in CRLF (only an empty message can, after validation) gets one,
  // so the terminator is always CRLF.CRLF (RFC 5321 §4.1.1.4).
  if (b1 === 0x0d && b2 === 0x0a) out.push(END);
  else out.push(CRLF_END);
  return out;
}
