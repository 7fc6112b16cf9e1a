/**
 * Header changes on the way downstream, done without re-encoding anything (DKIM must survive the
 * proxy, RFC 6376 §5.4: signed fields and the body reach the downstream byte for byte).
 *
 * - prepend: complete fields (ours and the engine's), each placed above the original header block;
 * - remove: the engine's predicate on each original field (e.g. X-Spam-* a sender pre-set, or
 *   Authentication-Results claiming our authserv-id, RFC 8601 §5);
 * - newSubject: the tag action's rewritten Subject replaces the first Subject field in place.
 *
 * Input is a validated message (CRLF only, not dot-stuffed). Output is a list of buffers that
 * slice the original where nothing changed (no copy of the body).
 */
export interface HeaderEdits {
  readonly prepend: readonly string[];
  readonly removeHeader?: (name: string, value: string) => boolean;
  readonly newSubject?: string;
}

const CRLF = Buffer.from('\r\n');

/** Flatten CR/LF/NUL in a value we write: a header must never be split by injected line breaks. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\0]+/g, ' ');
}

/** A CR, LF or NUL that is not part of a fold (CRLF + WSP + non-space). */
const UNFOLDED = /\0|\r(?!\n[ \t]\S)|(?<!\r)\n/;

/** A prepended field may be folded (CRLF + WSP, RFC 5322 §2.2.3); any other CR/LF/NUL is flattened. */
function safeField(s: string): string {
  // Fast path (every message's Received field): one test instead of a replace with a callback per fold.
  if (!UNFOLDED.test(s)) return s;
  return s.replace(/(\r\n(?=[ \t]\S))|[\r\n\0]+/g, (m, fold: string | undefined) => (fold ? m : ' '));
}

export function rewriteHeaders(message: Buffer, edits: HeaderEdits): Buffer[] {
  const top = edits.prepend.length ? Buffer.from(edits.prepend.map((h) => safeField(h) + '\r\n').join(''), 'utf8') : undefined;
  const parts: Buffer[] = top ? [top] : [];
  if (!edits.removeHeader && edits.newSubject === undefined) {
    parts.push(message);
    return parts;
  }

  // RFC 5322 §2.1: the header section ends at the first empty line. A message starting with CRLF
  // has no header fields at all.
  const headerEnd = message.subarray(0, 2).equals(CRLF) ? 0 : endOfHeader(message);
  let changed = false;
  let subjectDone = edits.newSubject === undefined;
  const kept: Buffer[] = [];
  for (const field of splitFields(message.subarray(0, headerEnd))) {
    const colon = field.indexOf(0x3a);
    const name = colon > 0 ? field.subarray(0, colon).toString('latin1').trim().toLowerCase() : '';
    if (name && edits.removeHeader) {
      // The field ends with its CRLF; only a folded field has more to unfold (RFC 5322 §2.2.3).
      const raw = field.subarray(colon + 1, field.length - (field[field.length - 1] === 0x0a ? 2 : 0)).toString('utf8');
      const value = (raw.includes('\r') ? raw.replace(/\r\n/g, '') : raw).trim();
      if (edits.removeHeader(name, value)) {
        changed = true;
        continue;
      }
    }
    if (name === 'subject' && !subjectDone) {
      kept.push(Buffer.from(`Subject: ${oneLine(edits.newSubject!)}\r\n`, 'utf8'));
      subjectDone = true;
      changed = true;
      continue;
    }
    kept.push(field);
  }
  if (!subjectDone) {
    kept.push(Buffer.from(`Subject: ${oneLine(edits.newSubject!)}\r\n`, 'utf8'));
    changed = true;
  }
  if (!changed) {
    parts.push(message);
    return parts;
  }
  parts.push(...kept, message.subarray(headerEnd));
  return parts;
}

/** Offset just past the CRLF ending the last header line (the blank line stays with the body). */
function endOfHeader(message: Buffer): number {
  const i = message.indexOf('\r\n\r\n');
  return i < 0 ? message.length : i + 2;
}

/** Split a header block into fields, each with its folded continuation lines and final CRLF. */
function* splitFields(block: Buffer): Generator<Buffer> {
  let start = 0;
  let pos = 0;
  while (pos < block.length) {
    const eol = block.indexOf(CRLF, pos);
    const next = eol < 0 ? block.length : eol + 2;
    const c = block[next];
    // RFC 5322 §2.2.3: a line starting with WSP continues the field (folding).
    if (next < block.length && (c === 0x20 || c === 0x09)) {
      pos = next;
      continue;
    }
    yield block.subarray(start, next);
    start = pos = next;
  }
}
