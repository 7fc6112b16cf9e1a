import { describe, expect, test } from '@jest/globals';
import { authservId, buildTagging, encodeOption, removesIncoming } from '../../../src/core/tagging.js';
import type { Verdict } from '../../../src/core/types.js';

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  action: 'tag',
  score: 7.3,
  required: 6,
  symbols: [
    { name: 'SUBJ_ALL_CAPS', score: 2.3, options: [] },
    { name: 'BAYES_SPAM', score: 5, options: ['97.5%'] },
    { name: 'ARC_NA', score: 0, options: [] },
  ],
  ...over,
});

describe('verdict headers', () => {
  test('exact header text for a tagged message (SpamAssassin-compatible)', () => {
    const t = buildTagging({ verdict: verdict(), hostname: 'mx.example.net' });
    expect(t.prependHeaders).toEqual([
      'X-Spam-Flag: YES',
      'X-Spam-Score: 7.3',
      'X-Spam-Level: *******',
      // Folded before column 78 (RFC 5322 §2.1.1, §2.2.3).
      'X-Spam-Status: Yes, score=7.3 required=6.0 tests=ARC_NA,BAYES_SPAM,\r\n\tSUBJ_ALL_CAPS',
      'X-Spamgate-Symbols: SUBJ_ALL_CAPS(2.30); BAYES_SPAM(5.00)[97.5%25];\r\n\tARC_NA(0.00)',
    ]);
    expect(t.newSubject).toBeUndefined();
  });

  test.each([
    ['accept', 1.5, 'NO', 'No', 'X-Spam-Level: *'],
    ['greylist', 4.2, 'NO', 'No', 'X-Spam-Level: ****'],
    ['reject', 99, 'YES', 'Yes', 'X-Spam-Level: ' + '*'.repeat(50)],
    ['accept', -2.5, 'NO', 'No', 'X-Spam-Level:'],
    ['accept', 0, 'NO', 'No', 'X-Spam-Level:'],
  ] as const)('%s at %d: flag %s', (action, score, flag, status, level) => {
    const t = buildTagging({ verdict: verdict({ action, score, symbols: [] }), hostname: 'mx' });
    expect(t.prependHeaders).toEqual([
      `X-Spam-Flag: ${flag}`,
      `X-Spam-Score: ${score.toFixed(1)}`,
      level,
      `X-Spam-Status: ${status}, score=${score.toFixed(1)} required=6.0 tests=none`,
      'X-Spamgate-Symbols: none',
    ]);
  });

  test('Authentication-Results comes first when the fact is present', () => {
    const t = buildTagging({ verdict: verdict(), hostname: 'mx.example.net', authResults: 'mx.example.net; spf=pass smtp.mailfrom=example.org' });
    expect(t.prependHeaders[0]).toBe('Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=example.org');
    expect(t.prependHeaders[1]).toBe('X-Spam-Flag: YES');
  });

  test('subject prefix only on tag, not stacked', () => {
    const v = verdict();
    expect(buildTagging({ verdict: v, hostname: 'mx', subjectPrefix: '[SPAM] ', subject: 'Cheap pills' }).newSubject).toBe('[SPAM] Cheap pills');
    expect(buildTagging({ verdict: v, hostname: 'mx', subjectPrefix: '[SPAM] ', subject: '[SPAM] Cheap pills' }).newSubject).toBeUndefined();
    expect(buildTagging({ verdict: v, hostname: 'mx', subjectPrefix: '[SPAM] ' }).newSubject).toBe('[SPAM]');
    expect(buildTagging({ verdict: verdict({ action: 'accept' }), hostname: 'mx', subjectPrefix: '[SPAM] ', subject: 'x' }).newSubject).toBeUndefined();
    expect(buildTagging({ verdict: verdict({ action: 'reject' }), hostname: 'mx', subjectPrefix: '[SPAM] ', subject: 'x' }).newSubject).toBeUndefined();
  });

  test('long symbol lists are folded under 78 columns, bounded, and every line stays < 998', () => {
    const symbols = Array.from({ length: 200 }, (_, i) => ({ name: `SOME_LONG_RULE_NAME_${String(i).padStart(3, '0')}`, score: 0.1, options: ['x'.repeat(100)] }));
    const t = buildTagging({ verdict: verdict({ symbols }), hostname: 'mx' });
    for (const h of t.prependHeaders) {
      const lines = h.split('\r\n');
      for (const [i, line] of lines.entries()) {
        expect(line.length).toBeLessThan(998);
        if (i > 0) expect(line.startsWith('\t')).toBe(true); // RFC 5322 §2.2.3 folding: CRLF + WSP
      }
    }
    const status = t.prependHeaders.find((h) => h.startsWith('X-Spam-Status'))!;
    expect(status.replace(/\r\n\t/g, '')).toContain('tests=SOME_LONG_RULE_NAME_000,SOME_LONG_RULE_NAME_001,');
    expect(status.split('\r\n').every((l) => l.length <= 78)).toBe(true);
    const sg = t.prependHeaders.find((h) => h.startsWith('X-Spamgate-Symbols'))!;
    expect(sg).toContain('...(+140)');
    expect(sg.length).toBeLessThan(12_000);
  });

  test('options are percent-encoded so attacker text cannot break the header', () => {
    expect(encodeOption('http://evil.example/a;b,c[d]')).toBe('http://evil.example/a%3Bb%2Cc%5Bd%5D');
    expect(encodeOption('bad\r\nX-Spam-Flag: NO')).toBe('bad%0D%0AX-Spam-Flag:%20NO');
    expect(encodeOption('bücher.example')).toBe('b%C3%BCcher.example');
  });
});

describe('removal of pre-set headers', () => {
  test.each([
    ['x-spam-flag', 'NO', true],
    ['x-spam-status', 'No, score=-5', true],
    ['x-spam-score', '-100', true],
    ['x-spam-level', '', true],
    ['x-spamgate-symbols', 'FAKE(-100)', true],
    ['x-spam-checker-version', 'SpamAssassin 4.0.1', true],
    ['authentication-results', 'mx.example.net; spf=pass smtp.mailfrom=example.org', true],
    ['authentication-results', 'MX.Example.NET; dkim=pass', true],
    ['authentication-results', '(forged) mx.example.net; dkim=pass', true],
    ['authentication-results', '"mx.example.net"; dkim=pass', true],
    ['authentication-results', 'mx.example.net 1; none', true],
    ['authentication-results', 'mx.upstream.example; spf=pass', false],
    ['authentication-results', 'mx.example.net.evil; spf=pass', false],
    ['subject', 'X-Spam-Flag: YES', false],
    ['x-spammy', 'x', false],
    ['received', 'from x by mx.example.net', false],
  ] as const)('%s: %s → %s', (name, value, removed) => {
    expect(buildTagging({ verdict: verdict(), hostname: 'mx.example.net' }).removeHeader(name, value)).toBe(removed);
    expect(removesIncoming(name, value, 'mx.example.net')).toBe(removed);
  });

  test.each([
    ['example.net; spf=pass', 'example.net'],
    ['  (c (nested)) example.net ; none', 'example.net'],
    ['"quoted\\"id"; none', 'quoted"id'],
    ['', undefined],
  ] as const)('authserv-id of %j is %j', (value, id) => {
    expect(authservId(value)).toBe(id);
  });
});
