/** The parsed message model: headers, addresses, bodies, URIs, attachments, HTML signals, caps. */
import { parseMessage, setParseLimits, getParseLimits, DEFAULT_PARSE_LIMITS } from '../../../src/message/index.js';
import { sniffType, typeMismatch, zipEntryNames, lastExtension } from '../../../src/message/sniff.js';
import { classifyUri, domainShownInText, findTextUrls } from '../../../src/message/uris.js';
import { scanHtml, color } from '../../../src/message/html.js';
import fs from 'node:fs';
import path from 'node:path';

const crlf = (...l: string[]) => Buffer.from(l.join('\r\n'));

describe('parseMessage', () => {
  const raw = crlf(
    'Received: from a by b; Sat, 10 Jan 2026 12:00:05 +0000',
    'From: =?utf-8?b?w4lsaXNl?= <elise@Example.ORG>',
    'Reply-To: "Help Desk" <help@other.example.com>, second@x.example',
    'To: user@example.net',
    'Subject: =?iso-8859-1?q?caf=E9?=',
    '  continued',
    'Date: Sat, 10 Jan 2026 12:00:00 +0000 (UTC)',
    'X-Dup: one',
    'X-Dup: two',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Hello =C3=A9 see http://www.example.com/a, and www.example.org/b.',
    '',
  );

  test('headers: raw, decoded, lookup, all-headers text', async () => {
    const m = await parseMessage(raw);
    // RFC 5322 §2.2.3: unfolding removes only the CRLF, so both spaces stay.
    expect(m.subject).toBe('café  continued');
    expect(m.header('subject')[0]).toMatchObject({ name: 'Subject', raw: '=?iso-8859-1?q?caf=E9?=  continued' });
    expect(m.header('X-DUP').map((h) => h.value)).toEqual(['one', 'two']);
    expect(m.headerValue('x-dup')).toBe('one');
    expect(m.header('nope')).toEqual([]);
    expect(m.headersText).toContain('\nSubject: café  continued\n');
    expect(m.rawHeaders.startsWith('Received: from a by b')).toBe(true);
    expect(m.rawHeaders).toContain('=?iso-8859-1?q?caf=E9?=\r\n  continued');
  });

  test('addresses with display names and lower-cased domains', async () => {
    const m = await parseMessage(raw);
    expect(m.from).toEqual([{ address: 'elise@Example.ORG', name: 'Élise', domain: 'example.org' }]);
    expect(m.replyTo.map((a) => a.domain)).toEqual(['other.example.com', 'x.example']);
    expect(m.replyTo[0]!.name).toBe('Help Desk');
  });

  test('decoded text, raw body, date, size', async () => {
    const m = await parseMessage(raw);
    expect(m.text).toContain('Hello é see');
    expect(m.rawBody.toString()).toContain('=C3=A9');
    expect(m.date?.toISOString()).toBe('2026-01-10T12:00:00.000Z');
    expect(m.size).toBe(raw.length);
    expect(m.html).toBe('');
    expect(m.truncated).toBe(false);
  });

  test('URLs in text, trailing punctuation removed', async () => {
    const m = await parseMessage(raw);
    expect(m.uris.map((u) => [u.url, u.domain, u.source])).toEqual([
      ['http://www.example.com/a', 'example.com', 'text'],
      ['http://www.example.org/b', 'example.org', 'text'],
    ]);
  });

  test('memoized per Buffer', async () => {
    expect(parseMessage(raw)).toBe(parseMessage(raw));
    expect(parseMessage(Buffer.from(raw))).not.toBe(parseMessage(raw));
  });

  test('the memo on the Buffer is invisible to its users; a non-extensible Buffer still parses', async () => {
    // The memo is a property of the Buffer (not a WeakMap: see PARSED in parse.ts); it must not
    // show up as content, in key listings or in equality.
    const b = Buffer.from(raw);
    await parseMessage(b);
    expect(Object.keys(b)).toEqual(Object.keys(Buffer.from(raw)));
    expect(b.equals(raw)).toBe(true);
    expect(b).toEqual(Buffer.from(raw));
    const sealed = Object.preventExtensions(Buffer.from(raw));
    expect((await parseMessage(sealed)).subject).toBe((await parseMessage(raw)).subject);
  });

  test('LF-only with an mbox From line', async () => {
    const m = await parseMessage(Buffer.from('From someone@example.org Sat Jan 10 12:00:00 2026\nFrom: a@example.org\nSubject: lf\n\nbody text\n'));
    expect(m.subject).toBe('lf');
    expect(m.from[0]!.address).toBe('a@example.org');
    expect(m.rawBody.toString()).toBe('body text\n');
    expect(m.header('from')).toHaveLength(1);
  });

  test('HTML: text rendering, links with anchor text, images, forms, signals', async () => {
    const m = await parseMessage(
      crlf(
        'From: a@example.org',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<html><body><p>Dear customer &amp; friend &#72;&#101;&#108;&#108;&#111;</p>',
        '<a href="https://login.evil.example.com/x">www.bank.com</a>',
        '<a href="http://192.0.2.1/y"><img src="cid:logo"></a>',
        '<img src="http://img.example.net/a.png">',
        '<a href="javascript:void(0)">js</a> <a href="mailto:info@shop.example">mail</a>',
        '<a href="http://xn--pypal-4ve.com/">p</a> <a href="http://3232235777/">dec</a>',
        '<form action="https://collect.example.com/p"><input type=password name=p></form>',
        '<div style="display: none">hidden words here</div><span style="font-size:0px">tiny</span>',
        '<font color="#FFF">white text</font>',
        '<div style="background-color:#000"><font color="white">visible white on black</font></div>',
        '</body></html>',
        '',
      ),
    );
    expect(m.htmlText).toContain('Dear customer & friend Hello');
    expect(m.htmlText).not.toContain('<p>');
    const links = m.uris.map((u) => ({ url: u.url, src: u.source, text: u.anchorText, ip: u.ipLiteral, puny: u.punycode }));
    expect(links).toEqual([
      { url: 'https://login.evil.example.com/x', src: 'a', text: 'www.bank.com', ip: false, puny: false },
      { url: 'http://192.0.2.1/y', src: 'a', text: '', ip: true, puny: false },
      { url: 'http://img.example.net/a.png', src: 'img', text: undefined, ip: false, puny: false },
      { url: 'mailto:info@shop.example', src: 'a', text: 'mail', ip: false, puny: false },
      { url: 'http://xn--pypal-4ve.com/', src: 'a', text: 'p', ip: false, puny: true },
      { url: 'http://192.168.1.1/', src: 'a', text: 'dec', ip: true, puny: false },
      { url: 'https://collect.example.com/p', src: 'form', text: undefined, ip: false, puny: false },
      // Link texts that look like URLs are links too once rendered (as SpamAssassin's URI list).
      { url: 'http://www.bank.com/', src: 'text', text: undefined, ip: false, puny: false },
    ]);
    expect(m.uris.find((u) => u.punycode)?.unicodeHost).toBe('pаypal.com');
    const s = m.htmlSignals;
    expect(s.imageCount).toBe(2);
    expect(s.passwordInputs).toBe(1);
    expect(s.forms).toEqual([{ action: 'https://collect.example.com/p', hasPassword: true }]);
    expect(s.numericEntityCount).toBe(5);
    expect(s.entityCount).toBe(6);
    expect([...s.hiddenReasons].sort()).toEqual(['display:none', 'font-size:0', 'white-on-white']);
    expect(s.hiddenTextLength).toBe('hiddenwordshere'.length + 'tiny'.length + 'whitetext'.length);
    expect(s.visibleTextLength).toBeGreaterThan(20);
  });

  test('attachments: sniffed type, mismatch, zip entry names, inline', async () => {
    const m = await parseMessage(fs.readFileSync(path.resolve('test/fixtures/rules/ZIP_CONTAINS_EXECUTABLE.spam.eml')));
    expect(m.attachments).toEqual([
      { filename: 'documents.zip', contentType: 'application/zip', sniffedType: 'zip', typeMismatch: false, size: expect.any(Number), archiveEntries: ['readme.txt', 'scan_0042.js'], inline: false },
    ]);
    const t = await parseMessage(fs.readFileSync(path.resolve('test/fixtures/rules/ATTACH_TYPE_MISMATCH.spam.eml')));
    expect(t.attachments[0]).toMatchObject({ filename: 'invoice.pdf', contentType: 'application/pdf', sniffedType: 'exe', typeMismatch: true });
  });

  test('bodies are capped at bodyScanBytes', async () => {
    const saved = getParseLimits();
    try {
      setParseLimits({ bodyScanBytes: 1024 });
      const m = await parseMessage(crlf('From: a@example.org', 'Subject: big', '', 'x'.repeat(5000), ''));
      expect(m.text.length).toBe(1024);
      expect(m.rawBody.length).toBe(1024);
      expect(m.truncated).toBe(true);
    } finally {
      setParseLimits(saved);
    }
    expect(getParseLimits()).toEqual(DEFAULT_PARSE_LIMITS);
  });
});

describe('sniffing and zip', () => {
  test.each([
    [Buffer.from('MZ\x90\x00', 'latin1'), 'exe'],
    [Buffer.from('\x7fELF\x02', 'latin1'), 'elf'],
    [Buffer.from('%PDF-1.7'), 'pdf'],
    [Buffer.from('PK\x03\x04', 'latin1'), 'zip'],
    [Buffer.from('\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'latin1'), 'ole'],
    [Buffer.from('GIF89a'), 'gif'],
    [Buffer.from('hello'), undefined],
  ])('sniff %#', (buf, want) => expect(sniffType(buf)).toBe(want));

  test.each([
    ['exe', 'application/pdf', 'invoice.pdf', true],
    ['exe', 'application/octet-stream', 'invoice.pdf', true],
    ['exe', 'application/octet-stream', 'setup.exe', false],
    ['exe', 'application/x-msdownload', 'setup', false],
    ['pdf', 'application/pdf', 'a.pdf', false],
    ['zip', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'a.docx', false],
    ['jpeg', 'image/jpeg', 'a.jpg', false],
    ['png', 'image/jpeg', 'a.jpg', false],
    ['png', 'application/pdf', 'a.pdf', true],
    [undefined, 'application/pdf', 'a.pdf', false],
  ])('mismatch %s declared %s named %s → %s', (sniffed, ct, name, want) => expect(typeMismatch(sniffed, ct, name)).toBe(want));

  test('zip central directory of a malformed buffer is empty', () => {
    expect(zipEntryNames(Buffer.from('PK\x03\x04 not really a zip', 'latin1'))).toEqual([]);
  });
  test('last extension', () => {
    expect(lastExtension('a.PDF.Exe ')).toBe('exe');
    expect(lastExtension('.bashrc')).toBe('');
    expect(lastExtension('dir.d/file')).toBe('');
  });
});

describe('URI helpers', () => {
  test.each([
    ['www.paypal.com', 'paypal.com'],
    ['https://secure.bank.co.uk/login', 'bank.co.uk'],
    ['Click here', undefined],
    ['file.txt', undefined],
    ['version 1.2', undefined],
    ['192.0.2.1', '192.0.2.1'],
  ])('domain shown in %j', (text, want) => expect(domainShownInText(text)).toBe(want));

  test('classify ignores non-web schemes and fragments', () => {
    expect(classifyUri('javascript:alert(1)', 'a')).toBeUndefined();
    expect(classifyUri('#top', 'a')).toBeUndefined();
    expect(classifyUri('cid:abc', 'img')).toBeUndefined();
    expect(classifyUri('//cdn.example.com/x', 'img')?.url).toBe('http://cdn.example.com/x');
    expect(classifyUri('http://[2001:db8::1]/', 'a')).toMatchObject({ host: '2001:db8::1', ipLiteral: true, domain: '' });
  });

  test('text URL finder is bounded', () => {
    expect(findTextUrls('a http://x.example/1 b http://x.example/2 c http://x.example/3', 2)).toHaveLength(2);
  });

  test('colours', () => {
    expect(color('#FFF')).toBe('ffffff');
    expect(color('White')).toBe('ffffff');
    expect(color('rgb(255, 255, 255)')).toBe('ffffff');
    expect(color('transparent')).toBeUndefined();
  });

  test('scanHtml caps URIs', () => {
    expect(scanHtml('<a href="http://a.example/">x</a>'.repeat(20), 5).uris).toHaveLength(5);
  });
});
