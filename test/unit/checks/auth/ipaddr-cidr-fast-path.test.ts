/**
 * The ipaddr.js parseCIDR fast path (src/checks/auth/ipaddr-cidr-fast-path.ts) must give exactly
 * what the original gives — the same range or the same error — for IPv4, IPv6, mapped and
 * malformed ranges, and must be the function mailauth's SPF code calls.
 */
import { createRequire } from 'node:module';

interface Ipaddr {
  parseCIDR: (s: string) => [{ kind(): string; toNormalizedString(): string }, number];
}
const require = createRequire(import.meta.url);
const ipaddr = createRequire(require.resolve('mailauth/lib/spf/spf-verify.js'))('ipaddr.js') as Ipaddr;
// Taken before the module under test is loaded (dynamically, below).
const original = ipaddr.parseCIDR;

function outcome(f: (s: string) => ReturnType<Ipaddr['parseCIDR']>, s: string): string {
  try {
    const [addr, bits] = f.call(ipaddr, s);
    return `${addr.kind()} ${addr.toNormalizedString()}/${bits}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

const inputs = [
  '192.0.2.0/24',
  '192.0.2.1/32',
  '0.0.0.0/0',
  '10.0.0.0/8',
  '192.0.2.0/33',
  '192.0.2.0/-1',
  '192.0.2/24',
  '192.0.2.256/24',
  '0x0a.0.0.1/8',
  '010.0.0.1/8',
  '4294967295/32',
  '192.0.2.0',
  '192.0.2.0/',
  '/24',
  '1234/16',
  '',
  'example.com/24',
  '2001:db8::/32',
  '2001:db8::1/128',
  '::ffff:192.0.2.1/128',
  '::192.0.2.1/96',
  '2001:db8::/129',
  'fe80::1%eth0/64',
  ':/8',
  '::/0',
];

test('in place, and the very function mailauth calls', async () => {
  const { installCidrFastPath } = await import('../../../../src/checks/auth/ipaddr-cidr-fast-path.js');
  expect(installCidrFastPath()).toBe(true);
  expect(ipaddr.parseCIDR).not.toBe(original);
});

test.each(inputs)('%j: same range or same error as ipaddr.js', (s) => {
  expect(outcome(ipaddr.parseCIDR, s)).toBe(outcome(original, s));
});

test('random strings over the characters of addresses: same outcome', () => {
  const chars = '0123456789abcdefx.:/%-';
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const s = Array.from({ length: 1 + rnd(20) }, () => chars[rnd(chars.length)]).join('');
    const want = outcome(original, s);
    if (!want.startsWith('error')) parsed++;
    expect(outcome(ipaddr.parseCIDR, s)).toBe(want);
  }
  // Also build ranges that do parse, so both branches are exercised.
  for (let i = 0; i < 2000; i++) {
    const s = `${rnd(300)}.${rnd(300)}.${rnd(300)}.${rnd(300)}/${rnd(40)}`;
    const want = outcome(original, s);
    if (!want.startsWith('error')) parsed++;
    expect(outcome(ipaddr.parseCIDR, s)).toBe(want);
  }
  expect(parsed).toBeGreaterThan(100);
});
