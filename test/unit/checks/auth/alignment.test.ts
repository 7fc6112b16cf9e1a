import { aligned, alignModeOf, evaluateAlignment, organizationalDomain } from '../../../../src/checks/auth/alignment.js';

test.each([
  // authenticated, from, mode, aligned?
  ['example.com', 'example.com', 's', true],
  ['EXAMPLE.com.', 'example.COM', 's', true],
  ['example.com', 'sub.example.com', 's', false], // mailauth 4.x says true here
  ['sub.example.com', 'example.com', 's', false],
  ['a.example.com', 'b.example.com', 's', false],
  ['example.com', 'sub.example.com', 'r', true],
  ['a.example.com', 'b.example.com', 'r', true],
  ['example.co.uk', 'other.co.uk', 'r', false], // public suffix is not an org domain
  ['a.example.co.uk', 'example.co.uk', 'r', true],
  ['alice.github.io', 'bob.github.io', 'r', false], // private PSL section
  ['example.com', 'example.net', 'r', false],
  ['', 'example.com', 'r', false],
] as const)('%s vs From %s under %s → %s', (a, f, mode, expected) => {
  expect(aligned(a, f, mode)).toBe(expected);
});

test('organizational domain follows the public suffix list', () => {
  expect(organizationalDomain('a.b.example.co.uk')).toBe('example.co.uk');
  expect(organizationalDomain('mail.example.com')).toBe('example.com');
});

test.each([
  ['v=DMARC1; p=reject; adkim=s; aspf=r', 's', 'r'],
  ['v=DMARC1; p=reject; ADKIM = S', 's', 'r'],
  ['v=DMARC1; p=none', 'r', 'r'],
  ['v=DMARC1; aspf=s', 'r', 's'],
  ['v=DMARC1; adkim=x', 'r', 'r'],
] as const)('%s → adkim=%s aspf=%s', (rec, adkim, aspf) => {
  expect(alignModeOf(rec, 'adkim')).toBe(adkim);
  expect(alignModeOf(rec, 'aspf')).toBe(aspf);
});

describe('evaluateAlignment (RFC 7489 §4.2)', () => {
  const base = { fromDomain: 'example.com', adkim: 'r', aspf: 'r' } as const;
  test.each([
    ['aligned DKIM pass', { ...base, dkim: [{ domain: 'mail.example.com', pass: true }] }, true],
    ['aligned SPF pass', { ...base, spfPassDomain: 'bounce.example.com', dkim: [] }, true],
    ['DKIM fail only', { ...base, dkim: [{ domain: 'example.com', pass: false }] }, false],
    ['unaligned DKIM pass', { ...base, dkim: [{ domain: 'example.net', pass: true }] }, false],
    ['partial-body DKIM pass gets no credit', { ...base, dkim: [{ domain: 'example.com', pass: true, partialBody: true }] }, false],
    ['strict DKIM, subdomain signer', { ...base, adkim: 's', dkim: [{ domain: 'mail.example.com', pass: true }] }, false],
    ['strict SPF, subdomain bounce', { ...base, aspf: 's', spfPassDomain: 'bounce.example.com', dkim: [] }, false],
    ['strict SPF, exact', { ...base, aspf: 's', spfPassDomain: 'example.com', dkim: [] }, true],
  ] as const)('%s', (_n, input, pass) => {
    expect(evaluateAlignment(input).pass).toBe(pass);
  });
});
