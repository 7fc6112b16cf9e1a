/**
 * The first value of one header field in a raw CRLF message, unfolded (RFC 5322 §2.2.3), without
 * decoding encoded-words: enough to prefix a Subject without re-encoding it. Only the header
 * section is read (up to the first empty line, RFC 5322 §2.1).
 */
const patterns = new Map<string, RegExp>();

function patternFor(name: string): RegExp {
  const key = name.toLowerCase();
  let re = patterns.get(key);
  if (!re) {
    // Linear: [^\r]* and the folded continuations cannot overlap.
    re = new RegExp(`(?:^|\\r\\n)${key.replace(/[^a-z0-9-]/g, '')}[ \\t]*:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, 'i');
    patterns.set(key, re);
  }
  return re;
}

export function firstHeaderValue(message: Buffer, name: string): string | undefined {
  const end = message.indexOf('\r\n\r\n');
  const head = message.toString('latin1', 0, end < 0 ? message.length : end + 2);
  const m = patternFor(name).exec(head);
  if (!m) return undefined;
  // latin1 maps bytes 1:1, so re-decode the matched slice as UTF-8 (RFC 6532 headers).
  return Buffer.from(m[1]!, 'latin1').toString('utf8').replace(/\r\n/g, '').trim();
}
