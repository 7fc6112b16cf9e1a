import { buildAuthResults } from '../../../../src/checks/auth/auth-results.js';

test('nothing evaluated → "<authserv-id>; none" (RFC 8601 §2.2)', () => {
  expect(buildAuthResults({ authservId: 'mx.example.net' })).toBe('mx.example.net; none');
});

test('all methods, folded between results', () => {
  const v = buildAuthResults({
    authservId: 'mx.example.net',
    spf: { result: 'pass', mailFrom: 'alice@example.com', domain: 'example.com' },
    dkim: [
      { result: 'pass', domain: 'example.com', selector: 's1', b: 'abcdEFGH' },
      { result: 'policy', domain: 'example.com', selector: 's2', comment: '25 body bytes not covered by l=' },
    ],
    arc: { result: 'none' },
    dmarc: { result: 'pass', policy: 'reject', domain: 'example.com' },
  });
  expect(v.split(';\r\n\t')).toEqual([
    'mx.example.net',
    'spf=pass smtp.mailfrom=alice@example.com',
    'dkim=pass header.d=example.com header.s=s1 header.b=abcdEFGH',
    'dkim=policy (25 body bytes not covered by l=) header.d=example.com header.s=s2',
    'arc=none',
    'dmarc=pass (p=reject) header.from=example.com',
  ]);
});

test('null sender reports the HELO identity; odd values are quoted; comments escaped', () => {
  const v = buildAuthResults({
    authservId: 'mx',
    spf: { result: 'none', mailFrom: '', helo: 'host with space', domain: '' },
    dkim: [{ result: 'fail', domain: 'x.test', selector: 's', comment: 'bad (sig)' }],
  });
  expect(v).toContain('spf=none smtp.helo="host with space"');
  expect(v).toContain('dkim=fail (bad \\(sig\\)) header.d=x.test');
  // only CRLF + TAB folds: no bare CR/LF, no unfolded line break
  expect(v.replace(/\r\n\t/g, '')).not.toMatch(/[\r\n]/);
});

test('no DKIM signature → dkim=none', () => {
  expect(buildAuthResults({ authservId: 'mx', dkim: [] })).toBe('mx;\r\n\tdkim=none');
});
