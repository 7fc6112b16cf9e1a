import { classifyHelo } from '../../../src/checks/helo/helo-syntax.js';

test.each([
  ['mail.example.com', { kind: 'domain', fqdn: true, name: 'mail.example.com' }],
  ['Mail.Example.COM.', { kind: 'domain', fqdn: true, name: 'mail.example.com' }],
  ['localhost', { kind: 'domain', fqdn: false, name: 'localhost' }],
  ['host.123', { kind: 'domain', fqdn: false, name: 'host.123' }],
  ['[192.0.2.1]', { kind: 'address-literal', ip: '192.0.2.1' }],
  ['[IPv6:2001:db8::1]', { kind: 'address-literal', ip: '2001:db8::1' }],
  ['[2001:db8::1]', { kind: 'invalid' }], // RFC 5321 §4.1.3 needs the IPv6: tag
  ['192.0.2.1', { kind: 'bare-ip', ip: '192.0.2.1' }],
  ['under_score.example', { kind: 'invalid' }],
  ['-lead.example', { kind: 'invalid' }],
  ['trail-.example', { kind: 'invalid' }],
  ['a..b', { kind: 'invalid' }],
  [`${'a'.repeat(64)}.example`, { kind: 'invalid' }],
  ['', { kind: 'invalid' }],
])('%j', (helo, expected) => {
  expect(classifyHelo(helo)).toEqual(expected);
});
