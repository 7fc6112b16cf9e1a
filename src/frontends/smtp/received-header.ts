/**
 * Our own Received trace field (RFC 5321 §4.4, RFC 5322 §3.6.7).
 *
 * `Received: from <helo> (<rdns> [<ip>]) by <hostname> (spamgate) with <proto> id <id> [for <rcpt>]; <date>`
 *
 * `with` uses the RFC 3848 / RFC 6531 protocol names (ESMTP, ESMTPS, UTF8SMTP, UTF8SMTPS).
 * `for` is only given for a single recipient: listing every recipient would disclose Bcc.
 */
export interface ReceivedInfo {
  readonly helo?: string;
  readonly clientIp: string;
  readonly clientHostname?: string;
  readonly hostname: string;
  readonly esmtp: boolean;
  readonly tls: boolean;
  readonly smtpUtf8: boolean;
  readonly id: string;
  readonly rcptTo: readonly string[];
  readonly date: Date;
}

/** Keep values we copy from the client to a safe, short, single token (no comment or line injection). */
function token(s: string, max = 255): string {
  return s.replace(/[^\x21-\x7e\u0080-\uffff]|[()\\;]/g, '').slice(0, max) || 'unknown';
}

export function receivedHeader(r: ReceivedInfo): string {
  return receivedTrace(r) + receivedFor(r.rcptTo, r.date);
}

/**
 * The part of the field that is the same for every message of a connection with the same client
 * name, HELO and protocol: `Received: from … by … with … id …` (the relay keeps it per session).
 */
export function receivedTrace(r: Omit<ReceivedInfo, 'rcptTo' | 'date'>): string {
  const ipLiteral = r.clientIp.includes(':') ? `IPv6:${r.clientIp}` : r.clientIp;
  const proto = (r.smtpUtf8 ? 'UTF8SMTP' : r.esmtp ? 'ESMTP' : 'SMTP') + (r.tls ? 'S' : '');
  const from = `from ${token(r.helo ?? 'unknown')} (${r.clientHostname ? token(r.clientHostname) + ' ' : ''}[${ipLiteral}])`;
  return `Received: ${from}\r\n\tby ${token(r.hostname)} (spamgate) with ${proto} id ${token(r.id)}`;
}

/** The per-message rest: `for <rcpt>` (single recipient only, see above) and the date. */
export function receivedFor(rcptTo: readonly string[], date: Date): string {
  const rcpt = rcptTo.length === 1 ? `\r\n\tfor <${token(rcptTo[0]!, 512)}>` : '';
  return `${rcpt};\r\n\t${rfc5322Date(date)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The last date formatted: every message of the same second reuses it. */
let lastSecond = NaN;
let lastDate = '';

/** RFC 5322 §3.3 date-time in UTC (`+0000`). */
export function rfc5322Date(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second === lastSecond) return lastDate;
  const p = (n: number) => String(n).padStart(2, '0');
  lastDate = `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  lastSecond = second;
  return lastDate;
}
