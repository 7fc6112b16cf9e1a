import { reverseIp, expandIPv6, unmapIPv4, isPrivateIp } from '../../../src/dns/reverse.js';
import { sameIp } from '../../../src/dns/same-ip.js';

test.each([
  ['192.0.2.99', '99.2.0.192'],
  ['127.0.0.2', '2.0.0.127'],
  // FIELD-NOTES §6 / RFC 5782 §2.4 example
  ['2001:db8:7ca6:22::45', '5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2'],
  ['2001:DB8::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2'],
  ['::ffff:192.0.2.7', '7.2.0.192'],
  ['::ffff:c000:207', '7.2.0.192'],
  ['not-an-ip', undefined],
])('%s → %s', (ip, rev) => {
  expect(reverseIp(ip)).toBe(rev);
});

test('expandIPv6 handles compression and embedded IPv4', () => {
  expect(expandIPv6('::1')).toEqual(['0000', '0000', '0000', '0000', '0000', '0000', '0000', '0001']);
  expect(expandIPv6('64:ff9b::192.0.2.33')).toEqual(['0064', 'ff9b', '0000', '0000', '0000', '0000', 'c000', '0221']);
  expect(expandIPv6('1.2.3.4')).toBeUndefined();
  expect(unmapIPv4('::FFFF:10.0.0.1')).toBe('10.0.0.1');
});

test.each([
  ['10.1.2.3', true],
  ['172.16.0.1', true],
  ['172.32.0.1', false],
  ['192.168.1.1', true],
  ['127.0.0.1', true],
  ['100.64.0.1', true],
  ['192.0.2.1', false],
  ['::1', true],
  ['fd00::1', true],
  ['fe80::1', true],
  ['2001:db8::1', false],
  ['::ffff:10.0.0.1', true],
] as const)('isPrivateIp(%s) = %s', (ip, p) => {
  expect(isPrivateIp(ip)).toBe(p);
});

test('sameIp across notations', () => {
  expect(sameIp('2001:db8:0:0::20', '2001:DB8::20')).toBe(true);
  expect(sameIp('::ffff:192.0.2.1', '192.0.2.1')).toBe(true);
  expect(sameIp('192.0.2.1', '192.0.2.2')).toBe(false);
});
