/** Header rewriting keeps everything it does not change byte for byte (DKIM); our Received line. */
import { rewriteHeaders } from '../../../../src/frontends/smtp/header-rewrite.js';
import { receivedHeader, rfc5322Date } from '../../../../src/frontends/smtp/received-header.js';

const MSG = 'DKIM-Signature: v=1;\r\n\tb=x\r\nSubject: hi\r\nX-Spam-Flag: NO\r\n\r\nSubject: body\r\n';
const out = (parts: Buffer[]) => Buffer.concat(parts).toString('latin1');

describe('rewriteHeaders', () => {
  test('prepend only: the original buffer is reused untouched', () => {
    const msg = Buffer.from(MSG);
    const parts = rewriteHeaders(msg, { prepend: ['X-A: 1', 'X-B: 2\r\n\tfolded'] });
    expect(parts[1]).toBe(msg);
    expect(out(parts)).toBe('X-A: 1\r\nX-B: 2\r\n\tfolded\r\n' + MSG);
  });
  test('injected line breaks in a prepended field are flattened', () => {
    expect(out(rewriteHeaders(Buffer.from(MSG), { prepend: ['X-A: 1\r\nBcc: evil@example.org', 'X-B: 2\n\r\n'] }))).toBe('X-A: 1 Bcc: evil@example.org\r\nX-B: 2 \r\n' + MSG);
    // A valid fold does not let a later line break through; a whitespace-only continuation is no fold.
    expect(out(rewriteHeaders(Buffer.from(MSG), { prepend: ['X-C: 1\r\n\tok\r\nBcc: x', 'X-D: 1\r\n \r\nX: y', 'X-E: a\0b'] }))).toBe(
      'X-C: 1\r\n\tok Bcc: x\r\nX-D: 1   X: y\r\nX-E: a b\r\n' + MSG,
    );
  });
  test('remove and newSubject touch only their fields; the body is never parsed as header', () => {
    const r = out(rewriteHeaders(Buffer.from(MSG), { prepend: [], removeHeader: (n) => n === 'x-spam-flag', newSubject: '[SPAM] hi' }));
    expect(r).toBe('DKIM-Signature: v=1;\r\n\tb=x\r\nSubject: [SPAM] hi\r\n\r\nSubject: body\r\n');
  });
  test('folded values reach the predicate unfolded; a missing Subject is added', () => {
    const seen: [string, string][] = [];
    const r = out(rewriteHeaders(Buffer.from('X-F: a\r\n b\r\n\r\nbody\r\n'), { prepend: [], removeHeader: (n, v) => (seen.push([n, v]), false), newSubject: 'new' }));
    expect(seen).toEqual([['x-f', 'a b']]);
    seen.length = 0;
    rewriteHeaders(Buffer.from('A: one \r\nB: two'), { prepend: [], removeHeader: (n, v) => (seen.push([n, v]), false) });
    expect(seen).toEqual([
      ['a', 'one'],
      ['b', 'two'],
    ]);
    expect(r).toBe('X-F: a\r\n b\r\nSubject: new\r\n\r\nbody\r\n');
  });
  test('a message without a header section or without a body', () => {
    expect(out(rewriteHeaders(Buffer.from('\r\nbody\r\n'), { prepend: [], removeHeader: () => true }))).toBe('\r\nbody\r\n');
    expect(out(rewriteHeaders(Buffer.from('A: 1\r\nB: 2\r\n'), { prepend: [], removeHeader: (n) => n === 'a' }))).toBe('B: 2\r\n');
  });
});

describe('receivedHeader', () => {
  const base = { helo: 'client.example', clientIp: '192.0.2.7', hostname: 'mx.example', esmtp: true, tls: false, smtpUtf8: false, id: 'abc123', rcptTo: ['bob@example.net'], date: new Date(Date.UTC(2024, 0, 5, 3, 4, 5)) };
  test('RFC 5321 §4.4 form, single recipient named', () => {
    expect(receivedHeader(base)).toBe('Received: from client.example ([192.0.2.7])\r\n\tby mx.example (spamgate) with ESMTP id abc123\r\n\tfor <bob@example.net>;\r\n\tFri, 5 Jan 2024 03:04:05 +0000');
  });
  test('several recipients are not disclosed; IPv6 literal; ESMTPS; hostile HELO neutralised', () => {
    const r = receivedHeader({ ...base, clientIp: '2001:db8::1', tls: true, rcptTo: ['a@x', 'b@x'], helo: 'evil) (by\r\nX: y;' });
    expect(r).toBe('Received: from evilbyX:y ([IPv6:2001:db8::1])\r\n\tby mx.example (spamgate) with ESMTPS id abc123;\r\n\tFri, 5 Jan 2024 03:04:05 +0000');
  });
  test('date format', () => {
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 29, 23, 59, 0)))).toBe('Sun, 29 Nov 2026 23:59:00 +0000');
    // The per-second cache never returns another second's string.
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 29, 23, 59, 0, 999)))).toBe('Sun, 29 Nov 2026 23:59:00 +0000');
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 29, 23, 59, 1)))).toBe('Sun, 29 Nov 2026 23:59:01 +0000');
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 29, 23, 59, 0)))).toBe('Sun, 29 Nov 2026 23:59:00 +0000');
  });
});
