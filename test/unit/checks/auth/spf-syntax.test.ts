import { spfSyntaxError } from '../../../../src/checks/auth/spf-syntax.js';

test.each([
  'v=spf1 -all',
  'v=spf1',
  'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ptr -all',
  'v=spf1 a:mail.example.com/24//64 mx:example.com//96 ~all',
  'v=spf1 include:_spf.example.com redirect=_spf.example.net',
  'v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} -all',
  'v=spf1 exp=explain.%{d} -all',
  'v=spf1 a:%{H} -all',
  'v=spf1 foo=bar -all',
  'V=SPF1 IP4:192.0.2.1 -ALL',
  'v=spf1  -all ', // extra spaces are allowed around terms
])('valid: %s', (r) => {
  expect(spfSyntaxError(r)).toBeUndefined();
});

test.each([
  ['v=spf1 -all ip6', 'bare ip6 (no colon)'],
  ['v=spf1 ip4:192.0.2.1/33', 'cidr too long'],
  ['v=spf1 ip6:2001:db8::/129', 'ip6 cidr too long'],
  ['v=spf1 ip4:300.1.1.1', 'bad address'],
  ['v=spf1 exp=a.example.com exp=b.example.com -all', 'exp twice'],
  ['v=spf1 redirect=a.example.com redirect=b.example.com', 'redirect twice'],
  ['v=spf1 exp=-all', 'exp without a domain'],
  ['v=spf1 -all exp=%{r}.example.com', 'c/r/t macros only in exp text'],
  ['v=spf1 include:', 'include without target'],
  ['v=spf1 a:example.123', 'numeric toplabel'],
  ['v=spf1 frob:example.com', 'unknown mechanism'],
  ['v=spf1 all:x', 'all takes no argument'],
  ['v=spf1 exists:%{q}.example.com', 'unknown macro letter'],
])('permerror: %s (%s)', (r) => {
  expect(spfSyntaxError(r)).toBeDefined();
});
