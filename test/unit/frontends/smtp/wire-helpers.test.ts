/** Pure pieces of the relay: line-ending validation, dot-stuffing, reply parsing, XFORWARD/XCLIENT. */
import { LineEndingValidator } from '../../../../src/frontends/smtp/data-validator.js';
import { dotStuff } from '../../../../src/frontends/smtp/dot-stuff.js';
import { SmtpReplyReader, replyText } from '../../../../src/frontends/smtp/smtp-reply-reader.js';
import { buildIdentityCommands, xtext } from '../../../../src/frontends/smtp/xforward.js';

/** Every way of cutting `s` into two chunks. */
function splits(s: string): Buffer[][] {
  const b = Buffer.from(s, 'latin1');
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

function validate(chunks: Buffer[]) {
  const v = new LineEndingValidator();
  for (const c of chunks) v.push(c);
  return v.finish();
}

describe('LineEndingValidator', () => {
  test.each([
    ['clean', 'a\r\nb\r\n\r\nc\r\n', undefined],
    ['empty', '', undefined],
    ['bare LF', 'a\nb\r\n', 'bare-lf'],
    ['bare LF first', '\nb\r\n', 'bare-lf'],
    ['bare CR', 'a\rb\r\n', 'bare-cr'],
    ['CR CR LF', 'a\r\r\n', 'bare-cr'],
    ['trailing CR', 'a\r\nb\r', 'bare-cr'],
    ['LF CR', 'a\n\r', 'bare-lf'],
    ['NUL', 'a\x00b\r\n', 'nul'],
    ['8-bit and UTF-8 bytes', 'caf\xc3\xa9 \xff\x85\r\n\xe2\x80\xa8\r\n', undefined],
    ['bare CR next to 8-bit', '\xc3\r\xa9\r\n', 'bare-cr'],
  ])('%s, whatever the chunking', (_n, s, expected) => {
    for (const chunks of splits(s)) expect(validate(chunks)).toBe(expected);
  });
});

describe('dotStuff', () => {
  const run = (parts: string[]) => Buffer.concat(dotStuff(parts.map((p) => Buffer.from(p, 'latin1')))).toString('latin1');
  test.each([
    ['no dots', ['a\r\nb\r\n'], 'a\r\nb\r\n.\r\n'],
    ['leading dot', ['.a\r\n'], '..a\r\n.\r\n'],
    ['dot lines', ['a\r\n.\r\n..\r\n'], 'a\r\n..\r\n...\r\n.\r\n'],
    ['dot after split CRLF', ['a\r', '\n.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['dot at part start', ['a\r\n', '.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['dot mid-line untouched', ['a.b\r\n'], 'a.b\r\n.\r\n'],
    ['empty message', [], '.\r\n'],
    ['no final CRLF', ['x'], 'x\r\n.\r\n'],
  ])('%s', (_n, parts, expected) => {
    expect(run(parts)).toBe(expected);
  });
});

describe('SmtpReplyReader', () => {
  test('single, multi-line and split replies', () => {
    const r = new SmtpReplyReader();
    expect(r.push(Buffer.from('250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10'))).toEqual([]);
    expect(r.push(Buffer.from('00\r\n550 5.1.1 no\r\n354\r\n'))).toEqual([
      { code: 250, lines: ['mx.example', 'PIPELINING', 'SIZE 1000'] },
      { code: 550, lines: ['5.1.1 no'] },
      { code: 354, lines: [''] },
    ]);
    expect(replyText({ code: 550, lines: ['5.7.1 first', '5.7.1 second'] })).toBe('5.7.1 first 5.7.1 second');
  });
  test.each(['hello\r\n', '250-a\r\n251 b\r\n', '999 x\r\n'])('protocol error: %j', (s) => {
    expect(() => new SmtpReplyReader().push(Buffer.from(s))).toThrow();
  });
});

describe('XFORWARD / XCLIENT', () => {
  const id = { addr: '2001:db8::5', port: 4321, helo: 'he llo+=', proto: 'ESMTP' as const, ident: 'abc', destAddr: '192.0.2.1', destPort: 25 };
  test('xtext (RFC 3461 §4)', () => {
    expect(xtext('a b+c=d\u00e4')).toBe('a+20b+2Bc+3Dd+C3+A4');
  });
  test('XFORWARD: only offered attributes, IPv6 prefixed, unknown NAME as [UNAVAILABLE]', () => {
    expect(buildIdentityCommands('xforward', id, ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'IDENT', 'SOURCE'])).toEqual([
      'XFORWARD PROTO=ESMTP HELO=he+20llo+2B+3D PORT=4321 SOURCE=REMOTE IDENT=abc NAME=[UNAVAILABLE] ADDR=IPV6:2001:db8::5',
    ]);
    expect(buildIdentityCommands('xforward', id, ['ADDR'])).toEqual(['XFORWARD ADDR=IPV6:2001:db8::5']);
  });
  test('XCLIENT: NAME and ADDR last; long values split into several commands of ≤ 512 bytes', () => {
    const long = { ...id, helo: 'h'.repeat(400), name: 'n'.repeat(200) };
    const lines = buildIdentityCommands('xclient', long, ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'DESTADDR', 'DESTPORT']);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length + 2).toBeLessThanOrEqual(512);
    expect(lines[lines.length - 1]).toMatch(/NAME=n+ ADDR=IPV6:2001:db8::5$/);
  });
});
