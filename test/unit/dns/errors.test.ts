import { describe, expect, test } from '@jest/globals';
import { DnsError, isNoRecords } from '../../../src/dns/errors.js';

describe('DnsError', () => {
  test('a negative answer (NXDOMAIN/NODATA) keeps code, name and type but carries no stack frames', () => {
    for (const code of ['ENOTFOUND', 'ENODATA'] as const) {
      const e = DnsError.of(code, '2.0.0.127.zen.example', 'A');
      expect(e).toBeInstanceOf(DnsError);
      expect(e).toBeInstanceOf(Error);
      expect(isNoRecords(e)).toBe(true);
      expect([e.name, e.code, e.hostname, e.rrtype]).toEqual(['DnsError', code, '2.0.0.127.zen.example', 'A']);
      expect(e.message).toBe(`queryA ${code} 2.0.0.127.zen.example`);
      expect(e.stack).toBe(`DnsError: queryA ${code} 2.0.0.127.zen.example`);
    }
  });

  test('a failure keeps its stack trace, and the stack limit is restored after a negative one', () => {
    const limit = Error.stackTraceLimit;
    DnsError.negative('ENOTFOUND', 'x.example', 'TXT', 'not a valid domain name');
    expect(Error.stackTraceLimit).toBe(limit);
    const e = DnsError.of('ETIMEOUT', 'slow.example', 'TXT');
    expect(isNoRecords(e)).toBe(false);
    expect(e.stack).toMatch(/\n\s+at /);
  });
});
