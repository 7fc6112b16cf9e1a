/** SpamAssassin .cf import against our own small .cf fixtures (test/fixtures/rules/sa). */
import fs from 'node:fs';
import path from 'node:path';
import { importSpamAssassin, importCfTexts, evalIf } from '../../../src/rules/spamassassin.js';
import { perlToRe2, splitPerlRegex } from '../../../src/rules/perl-regex.js';
import { loadRuleSet } from '../../../src/rules/loader.js';
import { evaluateRules } from '../../../src/rules/evaluate.js';
import { parseMessage } from '../../../src/message/index.js';

const saDir = path.resolve('test/fixtures/rules/sa');

describe('Perl regex → RE2', () => {
  test.each([
    ['/abc/i', { pattern: 'abc', flags: 'i', rest: '' }],
    ['m{^\\d+@}i', { pattern: '^\\d+@', flags: 'i', rest: '' }],
    ['m!a/b!', { pattern: 'a/b', flags: '', rest: '' }],
    ['/a\\/b/ [if-unset: x]', { pattern: 'a/b', flags: '', rest: '[if-unset: x]' }],
    ['m{a{2}b}', { pattern: 'a{2}b', flags: '', rest: '' }],
  ])('split %s', (text, expected) => expect(splitPerlRegex(text)).toEqual(expected));

  test.each([
    ['foo(?=bar)', '', 'lookaround'],
    ['(?<!x)y', '', 'lookaround'],
    ['(a)\\1', '', 'backreference'],
    ['a++', '', 'possessive/atomic'],
    ['(?>ab)', '', 'possessive/atomic'],
    ['\\Gx', '', 'perl-only construct'],
    ['(?(1)a|b)', '', 'perl-only construct'],
    ['x', 'e', 'perl-only construct'],
  ])('refuses %s', (pattern, flags, category) => {
    expect(perlToRe2(pattern, flags)).toMatchObject({ category });
  });

  test.each([
    ['a\\Z', '', 'a(?:\\n?\\z)'],
    ['a\\hb', '', 'a[\\t ]b'],
    ['a (?#note) b', 'x', 'ab'],
    ['a b # comment', 'x', 'ab'],
    ['\\++', '', '\\++'],
    ['[a+]+', '', '[a+]+'],
    ['(?<name>x)', '', '(?P<name>x)'],
    ['\\e', '', '\\x1b'],
  ])('translates %s', (pattern, flags, source) => {
    expect(perlToRe2(pattern, flags)).toMatchObject({ source });
  });
});

describe('if conditions', () => {
  test.each([
    ['(version >= 3.004000)', true],
    ['(version >= 9.0)', false],
    ['!plugin(Mail::SpamAssassin::Plugin::ReplaceTags)', true],
    ['plugin(Mail::SpamAssassin::Plugin::DKIM)', false],
    ['can(Mail::SpamAssassin::Conf::feature_bug6558_free)', true],
    ['can(Mail::SpamAssassin::Conf::feature_capture_rules)', false],
  ])('%s → %s', (cond, value) => expect(evalIf(cond)).toBe(value));
});

describe('import', () => {
  const r = importSpamAssassin([saDir], '/');
  const ids = new Set(r.rules.map((x) => x.id));
  const reason = (id: string) => r.skipped.find((s) => s.id === id)?.reason;

  test('loads the translatable rules', () => {
    expect([...ids].sort()).toEqual(
      [
        'ALL_HAS_XFOO', 'BODY_EXTENDED', 'BODY_HASH', 'BODY_LOTTERY', 'FROM_ADDR_NUMERIC', 'FROM_NAME_BANK', 'FULL_XFOO',
        'META_COUNT', 'META_LOTTERY_FREE', 'META_SUB_CHAIN', 'NO_REPLACETAGS', 'NO_XMAILER', 'RAW_BASE64_FOO', 'SUBJ_FREE_MONEY',
        'URI_DOTRU', 'VERSIONED_RULE', '__HAS_LIST_ID', '__SUB_META', '__SUB_ONLY',
      ].sort(),
    );
    expect(r.files.map((f) => path.basename(f))).toEqual(['10_tests.cf', '50_scores.cf']);
  });

  test('skips with reasons', () => {
    expect(reason('BODY_LOOKAHEAD')).toBe('lookaround');
    expect(reason('BODY_BACKREF')).toMatch(/backreference/);
    expect(reason('BODY_POSSESSIVE')).toBe('possessive quantifier');
    expect(reason('BODY_EVAL')).toMatch(/^eval rule/);
    expect(reason('EVAL_HDR')).toMatch(/^eval rule/);
    expect(reason('RELAYS_PSEUDO')).toMatch(/pseudo-header/);
    expect(reason('PLUGIN_ONLY')).toBe('inside ifplugin Mail::SpamAssassin::Plugin::FreeMail');
    expect(reason('WITH_REPLACETAGS')).toMatch(/^inside else of if !plugin/);
    expect(reason('DISABLED_RULE')).toBe('disabled (score 0)');
    expect(reason('MIME_PDF')).toBe('rule type mimeheader is not supported');
    expect(reason('META_BAD_DEP')).toBe('meta depends on skipped or unknown rule BODY_LOOKAHEAD');
    expect(r.skippedReasons).toMatchObject({ lookaround: 1, eval: 2, 'ifplugin/if block': 2, 'disabled (score 0)': 1, 'meta dependency skipped': 1 });
  });

  test('scores: last of four, single, default 1, sub-rules 0; describe kept', () => {
    const score = (id: string) => r.rules.find((x) => x.id === id)?.score;
    expect(score('BODY_LOTTERY')).toBe(3.25);
    expect(score('SUBJ_FREE_MONEY')).toBe(2.5);
    expect(score('URI_DOTRU')).toBe(1);
    expect(score('__SUB_ONLY')).toBe(0);
    expect(r.rules.find((x) => x.id === 'SUBJ_FREE_MONEY')?.description).toBe('Subject offers free money');
  });

  test('a later definition replaces an earlier one', () => {
    const r2 = importCfTexts([
      { file: 'a.cf', text: 'body X_RULE /one/\n' },
      { file: 'b.cf', text: 'body X_RULE /two/\n' },
    ]);
    expect(r2.rules).toHaveLength(1);
    expect(r2.rules[0]!.test).toMatchObject({ kind: 'body', regex: { source: 'two' } });
    expect(r2.rules[0]!.pos).toEqual({ file: 'b.cf', line: 1 });
  });

  test('imported rules run', async () => {
    const set = loadRuleSet({ paths: [], spamassassin: [saDir], baseDir: '/' });
    if (!set.ok) throw new Error(JSON.stringify(set.problems));
    const raw = Buffer.from(
      [
        'From: "Your Bank" <12345@example.com>',
        'To: user@example.net',
        'Subject: FREE   money for you',
        'X-Foo: bar',
        'Date: Sat, 10 Jan 2026 12:00:00 +0000',
        'Message-ID: <a@example.com>',
        '',
        'Congratulations, you have won the lottery! Visit http://prize.example.ru/claim',
        'We are the number #1 choice for cheap   pills.',
        '',
      ].join('\r\n'),
    );
    const hits = evaluateRules(set.ruleSet, await parseMessage(raw), { mailFrom: '', rcptTo: [] }).hits.map((h) => h.rule.id);
    expect(hits.sort()).toEqual(
      ['ALL_HAS_XFOO', 'BODY_EXTENDED', 'BODY_HASH', 'BODY_LOTTERY', 'FROM_ADDR_NUMERIC', 'FROM_NAME_BANK', 'FULL_XFOO', 'META_COUNT', 'META_LOTTERY_FREE', 'META_SUB_CHAIN', 'NO_XMAILER', 'SUBJ_FREE_MONEY', 'URI_DOTRU'].sort(),
    );
  });

  test('a local YAML rule with the same id overrides the imported one', () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'sg-sa-'));
    try {
      fs.writeFileSync(path.join(dir, 'local.yaml'), "rules:\n  - id: URI_DOTRU\n    description: local\n    score: 0.1\n    category: other\n    uri: { domain: '/\\.ru$/' }\n");
      const set = loadRuleSet({ paths: [dir], spamassassin: [saDir], baseDir: '/' });
      if (!set.ok) throw new Error(JSON.stringify(set.problems));
      const rule = set.ruleSet.rules[set.ruleSet.byId.get('URI_DOTRU')!]!;
      expect(rule.source).toBe('yaml');
      expect(set.ruleSet.skipped.find((s) => s.id === 'URI_DOTRU')?.reason).toMatch(/overridden/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable path is a problem', () => {
    const set = loadRuleSet({ paths: [], spamassassin: ['/nonexistent/sa'], baseDir: '/' });
    expect(set.ok).toBe(false);
    expect(set.problems[0]).toMatchObject({ file: '/nonexistent/sa', line: 0 });
  });
});
