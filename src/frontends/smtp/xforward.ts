/**
 * XFORWARD and XCLIENT command builders (Postfix XFORWARD_README, XCLIENT_README): pass the real
 * client's identity to the downstream MTA. Pure.
 *
 * - Values are xtext (RFC 3461 §4): bytes outside 0x21–0x7e, "+" and "=" become "+HH".
 * - Unknown values are sent as `[UNAVAILABLE]`; IPv6 addresses carry the `IPV6:` prefix.
 * - A command line stays ≤ 512 bytes (RFC 5321 §4.5.3.1.4), so attributes are split over several
 *   commands. For XCLIENT, NAME and ADDR go last: once ADDR is set the downstream treats the
 *   session as the client's and may refuse further XCLIENT (XCLIENT_README).
 */
export interface ClientIdentity {
  readonly addr: string;
  readonly port: number;
  readonly name?: string;
  readonly helo?: string;
  /** SMTP or ESMTP: whether the client greeted with EHLO. */
  readonly proto: 'SMTP' | 'ESMTP';
  /** Our session id (XFORWARD IDENT) for log correlation downstream. */
  readonly ident?: string;
  readonly destAddr?: string;
  readonly destPort?: number;
}

export function xtext(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 0x21 || b > 0x7e || b === 0x2b || b === 0x3d ? '+' + b.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(b);
  }
  return out;
}

const UNAVAILABLE = '[UNAVAILABLE]';

function addrValue(ip: string): string {
  return ip.includes(':') && !ip.startsWith('::ffff:') ? `IPV6:${ip}` : ip.replace(/^::ffff:/, '');
}

function attrs(id: ClientIdentity, kind: 'xforward' | 'xclient'): [string, string][] {
  const list: [string, string][] = [
    ['PROTO', id.proto],
    ['HELO', id.helo ? xtext(id.helo) : UNAVAILABLE],
    ['PORT', String(id.port)],
  ];
  if (kind === 'xforward') {
    list.push(['SOURCE', 'REMOTE']);
    if (id.ident) list.push(['IDENT', xtext(id.ident)]);
  } else {
    if (id.destAddr) list.push(['DESTADDR', addrValue(id.destAddr)]);
    if (id.destPort) list.push(['DESTPORT', String(id.destPort)]);
  }
  list.push(['NAME', id.name ? xtext(id.name) : UNAVAILABLE], ['ADDR', addrValue(id.addr)]);
  return list;
}

/**
 * Build the command lines (without CRLF). `offered` is the attribute list from the downstream's
 * EHLO line (e.g. `XFORWARD NAME ADDR PROTO HELO`); attributes it does not name are left out.
 */
export function buildIdentityCommands(kind: 'xforward' | 'xclient', id: ClientIdentity, offered: readonly string[]): string[] {
  const verb = kind === 'xforward' ? 'XFORWARD' : 'XCLIENT';
  const allowed = new Set(offered.map((a) => a.toUpperCase()));
  const lines: string[] = [];
  let cur = verb;
  for (const [k, v] of attrs(id, kind)) {
    if (!allowed.has(k)) continue;
    const piece = ` ${k}=${v}`;
    if (cur.length + piece.length > 510 && cur !== verb) {
      lines.push(cur);
      cur = verb;
    }
    cur += piece;
  }
  if (cur !== verb) lines.push(cur);
  // XCLIENT: NAME and ADDR must be in the last command (see above); the list order already puts
  // them last, and a split only ever moves earlier attributes into earlier commands.
  return lines;
}
