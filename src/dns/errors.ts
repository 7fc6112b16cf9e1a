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
}

/** NXDOMAIN or NODATA: the name has no such records (not a failure). */
export function isNoRecords(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}
