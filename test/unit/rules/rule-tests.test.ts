/** Each rule test kind of the YAML format, table-driven over small messages. */
import { parseMessage } from '../../../src/message/index.js';
import { parseRuleFile } from '../../../src/rules/yaml-file.js';
import { compileRules, hasDoubleExtension } from '../../../src/rules/compile.js';
import { evaluateRules } from '../../../src/rules/evaluate.js';
import { parseRegexNotation } from '../../../src/rules/regex.js';
import type { RuleSet } from '../../../src/rules/types.js';

function ruleSet(yaml: string): RuleSet {
  const parsed = parseRuleFile(yaml, 't.yaml');
  const c = compileRules(parsed.rules);
  const problems = [...parsed.problems, ...c.problems];
  if (problems.length) throw new Error(JSON.stringify(problems));
  return {
    rules: c.rules,
    byId: new Map(c.rules.map((r, i) => [r.id, i])),
    skipped: [],
    files: [],
    stats: { rules: { loaded: c.rules.length, files: [] }, spamassassin: { files: [], loaded: 0, skipped: 0, skippedReasons: {} } },
  };
}
function rule(test: string, extra = ''): string {
  return `rules:\n  - id: R\n    description: d\n    score: 1\n    category: other\n    ${test}\n${extra}`;
}
const lines = (...l: string[]) => Buffer.from(l.join('\r\n'));
const MSG = lines(
  'From: "Shop" <news@shop.example.com>',
  'To: user@example.net',
  'Subject: =?utf-8?q?Gro=C3=9Fe_Rabatte?=',
  'Reply-To: sales@shop.example.com',
  'X-Mailer: BulkMailer 2.0',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<p>Sale: <a href=3D"https://deals.example.org/x?id=3D1">see deals</a> and w=',
  'ww.example.com/info</p>',
  '--b',
  'Content-Type: application/octet-stream; name="report.doc.scr"',
  'Content-Disposition: attachment; filename="report.doc.scr"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('MZ\x90\x00rest-of-program').toString('base64'),
  '--b--',
  '',
);

async function fires(test: string, raw: Buffer = MSG, extra = ''): Promise<readonly string[] | undefined> {
  const set = ruleSet(rule(test, extra));
  const r = evaluateRules(set, await parseMessage(raw), { mailFrom: '', rcptTo: ['user@example.net'] });
  return r.hits.find((h) => h.rule.id === 'R')?.options;
}

describe('rule test kinds', () => {
  test.each<[string, string, readonly string[] | undefined]>([
    ['header regex on decoded value', "header: { name: Subject, regex: '/große/i' }", ['Große']],
    ['header regex, raw part', "header: { name: Subject, part: raw, regex: '/=\\?utf-8\\?q\\?/' }", ['=?utf-8?q?']],
    ['header regex misses', "header: { name: Subject, regex: '/viagra/i' }", undefined],
    ['header exists', 'header: { name: X-Mailer, exists: true }', []],
    ['header missing', 'header: { name: Message-ID, exists: false }', []],
    ['header exists but is there', 'header: { name: X-Mailer, exists: false }', undefined],
    ['header addr part', "header: { name: From, part: addr, regex: '/^news@/' }", ['news@']],
    ['header name part', "header: { name: From, part: name, regex: '/^Shop$/' }", ['Shop']],
    ['header negate', "header: { name: X-Mailer, regex: '/Outlook/', negate: true }", []],
    ['header ALL', "header: { name: ALL, regex: '/^X-Mailer: Bulk/m' }", ['X-Mailer: Bulk']],
    ['body sees HTML rendered as text and the subject', "body: '/see deals and www\\.example\\.com/'", ['see deals and www.example.com']],
    ['body subject', "body: '/^Große Rabatte/'", ['Große Rabatte']],
    ['rawbody sees the HTML source', "rawbody: '/<a href=\"https/'", ['<a href="https']],
    ['full sees transfer encoding', "full: '/href=3D/'", ['href=3D']],
    ['uri regex on url', "uri: '/deals\\.example\\.org\\/x/'", ['https://deals.example.org/x?id=1']],
    ['uri on registrable domain', "uri: { domain: '/^example\\.org$/' }", ['https://deals.example.org/x?id=1']],
    ['uri on host', "uri: { host: '/^www\\./' }", ['http://www.example.com/info']],
    ['uri ip literal misses', 'uri: { ipLiteral: true }', undefined],
    ['attachment name', "attachment: { name: '/\\.scr$/' }", ['report.doc.scr']],
    ['attachment extension list', 'attachment: { extension: [exe, scr] }', ['report.doc.scr']],
    ['attachment double extension', 'attachment: { doubleExtension: true, extension: scr }', ['report.doc.scr']],
    ['attachment sniffed', 'attachment: { sniffed: exe }', ['report.doc.scr']],
    ['attachment declared type', "attachment: { contentType: '/octet-stream/' }", ['report.doc.scr']],
    ['attachment generic type + .scr is consistent with MZ', 'attachment: { typeMismatch: true }', undefined],
    ['size in range', 'size: { min: 100, max: 100000 }', [String(MSG.length)]],
    ['size too small', 'size: { max: 10 }', undefined],
  ])('%s', async (_name, test, want) => {
    expect(await fires(test)).toEqual(want);
  });

  test('flags key applies to the pattern', async () => {
    expect(await fires("body: 'SEE DEALS'\n    flags: i")).toEqual(['see deals']);
  });

  test('eval with args', async () => {
    const raw = lines('From: a@example.org', 'Subject: x', 'Content-Type: text/html', '', '<div style="display:none">' + 'hidden '.repeat(5) + '</div>visible', '');
    expect(await fires('eval: html_hidden_text', raw, '    args: { minChars: 20 }\n')).toEqual(['display:none']);
    expect(await fires('eval: html_hidden_text', raw, '    args: { minChars: 100 }\n')).toBeUndefined();
  });

  test('a meta over sub-rules; sub-rules are not reported', async () => {
    const set = ruleSet(
      "rules:\n  - id: __A\n    body: '/deals/'\n  - id: __B\n    header: { name: X-Mailer, exists: true }\n  - id: M\n    description: d\n    score: 2\n    category: other\n    meta: '__A && __B'\n",
    );
    const r = evaluateRules(set, await parseMessage(MSG), { mailFrom: '', rcptTo: [] });
    expect(r.hits.map((h) => h.rule.id)).toEqual(['M']);
    expect(set.rules.find((x) => x.id === '__A')?.score).toBe(0);
  });

  test('a test that throws counts as no hit and is reported', async () => {
    const set = ruleSet(rule("body: '/x/'"));
    const broken: RuleSet = { ...set, rules: [{ ...set.rules[0]!, test: () => { throw new Error('boom'); } }] };
    const r = evaluateRules(broken, await parseMessage(MSG), { mailFrom: '', rcptTo: [] });
    expect(r).toEqual({ hits: [], errors: [{ rule: 'R', error: 'boom' }] });
  });
});

describe('helpers', () => {
  test.each([
    ['invoice.pdf.exe', true],
    ['scan.doc   .scr', true],
    ['photo.jpeg.js', true],
    ['setup.exe', false],
    ['archive.tar.gz', true],
    ['v1.2.exe', false],
  ])('double extension %s → %s', (name, want) => expect(hasDoubleExtension(name)).toBe(want));

  test.each([
    ['/abc/i', '', { source: 'abc', flags: 'i' }],
    ['abc', 'i', { source: 'abc', flags: 'i' }],
    ['/a\\/b/ms', '', { source: 'a\\/b', flags: 'ms' }],
    ['/abc/g', '', 'unsupported regex flags "g" (allowed: i, m, s, u)'],
    ['//', '', 'empty regex'],
  ])('regex notation %s', (text, flags, want) => expect(parseRegexNotation(text, flags)).toEqual(want));
});
