import { describe, expect, it } from '@jest/globals';
import { cidrMatcher, inCidr, networkOf, normaliseIp } from '../../../src/store/ipnet.js';
import { keyPart, keysFor } from '../../../src/store/keys.js';
import { configSchema } from '../../../src/config/schema.js';

describe('client networks', () => {
  it.each([
    ['192.0.2.77', '192.0.2.0/24'],
    ['::ffff:192.0.2.77', '192.0.2.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:0:0:1::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['not-an-ip', ''],
  ])('%s → %s', (ip, net) => expect(networkOf(ip)).toBe(net));

  it('normalises addresses and matches CIDRs', () => {
    expect(normaliseIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseIp('2001:DB8::1')).toBe('2001:db8:0:0:0:0:0:1');
    expect(inCidr('192.0.2.200', '192.0.2.128/25')).toBe(true);
    expect(inCidr('192.0.2.100', '192.0.2.128/25')).toBe(false);
    expect(inCidr('2001:db8::5', '2001:db8::/32')).toBe(true);
    expect(inCidr('192.0.2.1', '2001:db8::/32')).toBe(false);
    expect(inCidr('192.0.2.1', '192.0.2.1')).toBe(true);
    const local = cidrMatcher(['127.0.0.0/8', '::1/128', '2001:db8::/48']);
    expect(['127.0.0.1', '::ffff:127.0.0.2', '::1', '2001:db8:0:5::1'].map(local)).toEqual([true, true, true, true]);
    expect(['128.0.0.1', '::2', '2001:db9::1', 'junk'].map(local)).toEqual([false, false, false, false]);
    expect(cidrMatcher([])('127.0.0.1')).toBe(false);
  });

  it('matches prefixes that do not end on a 16-bit group, and answers each address anew', () => {
    const m = cidrMatcher(['192.0.2.128/25', '10.0.0.0/7', '2001:db8:8000::/33', '198.51.100.7']);
    const asked = ['192.0.2.200', '192.0.2.127', '11.255.0.1', '12.0.0.1', '2001:db8:ffff::1', '2001:db8:7fff::1', '198.51.100.7', '198.51.100.8'];
    const want = [true, false, true, false, true, false, true, false];
    // Twice, interleaved: the remembered last answer must never leak to another address.
    expect(asked.map(m)).toEqual(want);
    expect([...asked].reverse().map(m)).toEqual([...want].reverse());
    expect(asked.map((ip) => [m(ip), m(ip)])).toEqual(want.map((w) => [w, w]));
  });
});

describe('key layout', () => {
  it('hash-tags the network of greylist keys so the triplet and its allow counter share a slot', () => {
    const k = keysFor('sg:');
    expect(k.greylistTriplet('192.0.2.0/24', 'a@x', 'u@y')).toBe('sg:gl:{192.0.2.0/24}:t:a@x|u@y');
    expect(k.greylistAllow('192.0.2.0/24', 'x')).toBe('sg:gl:{192.0.2.0/24}:a:x');
    expect(k.reputation('domain', 'Example.ORG')).toBe('sg:rep:domain:{example.org}');
  });

  it('bounds attacker-chosen key parts and keeps braces out of them', () => {
    expect(keyPart('x'.repeat(500))).toMatch(/^h:[0-9a-f]{40}$/);
    expect(keyPart('evil{tag}')).toMatch(/^h:/);
    expect(keyPart('mx.example.org')).toBe('mx.example.org');
  });

  it('refuses a prefix that would change the cluster hash tag', () => {
    expect(configSchema.safeParse({ redis: { prefix: '{sg}:' } }).success).toBe(false);
    expect(configSchema.safeParse({ redis: { prefix: 'mx1:' } }).success).toBe(true);
  });
});
