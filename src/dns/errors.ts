/**
 * DNS errors shaped like node's `dns` errors (`.code`, `.hostname`), so libraries written against
 * `dns.promises` (mailauth) read them unchanged: ENOTFOUND (NXDOMAIN) and ENODATA (NODATA) mean
 * "none" / a void lookup (RFC 7208 §4.6.4); everything else is a temporary failure.
 */
export type DnsErrorCode =
  | 'ENOTFOUND'
  | 'ENODATA'
  | 'ETIMEOUT'
  | 'ESERVFAIL'
  | 'EREFUSED'
  | 'EBUDGET'
  | 'ECANCELLED';

export class DnsError extends Error {
  readonly code: DnsErrorCode;
  readonly hostname: string;
  readonly rrtype: string;
  constructor(code: DnsErrorCode, hostname: string, rrtype: string, detail?: string) {
    super(`query${rrtype} ${code} ${hostname}${detail ? ` (${detail})` : ''}`);
    this.name = 'DnsError';
    this.code = code;
    this.hostname = hostname;
    this.rrtype = rrtype;
  }

  /**
   * NXDOMAIN/NODATA: the common, expected answer of list lookups (DNSBL, URIBL, HELO, SPF void
   * lookups), often straight from the negative cache. Built without a stack trace: capturing one
   * is most of an Error's cost, and for an ordinary answer it would only show resolve() itself;
   * code, name and type stay in `message` (and `stack`'s first line) for the logs.
   */
  static negative(code: 'ENOTFOUND' | 'ENODATA', hostname: string, rrtype: string, detail?: string): DnsError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new DnsError(code, hostname, rrtype, detail);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** `negative()` for NXDOMAIN/NODATA, a full error (with its stack) for a failure. */
  static of(code: DnsErrorCode, hostname: string, rrtype: string, detail?: string): DnsError {
    return code === 'ENOTFOUND' || code === 'ENODATA' ? DnsError.negative(code, hostname, rrtype, detail) : new DnsError(code, hostname, rrtype, detail);
  }
}

/** NXDOMAIN or NODATA: the name has no such records (not a failure). */
export function isNoRecords(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}
