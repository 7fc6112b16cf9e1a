/**
 * URI extraction and classification. mailparser extracts no links (FIELD-NOTES §5), so links come
 * from two places: a scan of plain text for `scheme://…` / `www.…` tokens (below), and the HTML
 * walker (html.ts) for href/src/action attributes with their anchor text.
 */
import net from 'node:net';
import { domainToUnicode } from 'node:url';
import { parse as tldParse } from 'tldts';
import type { UriInfo, UriSource } from './types.js';

// A URL in free text ends at whitespace, quotes or angle brackets (RFC 3986 Appendix C: delimiting
// URIs in context). Linear: one character class, no nesting.
const TEXT_URL = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'`{}|\\^[\]]{2,2000}/gi;
const TRAILING_PUNCT = /[.,;:!?)'"\]]+$/;

/** Find URLs in plain text; returns raw matches (trailing punctuation removed). */
export function findTextUrls(text: string, limit: number): string[] {
  const out: string[] = [];
  TEXT_URL.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TEXT_URL.exec(text)) !== null && out.length < limit) {
    out.push(m[0].replace(TRAILING_PUNCT, ''));
  }
  return out;
}

/**
 * Classify one raw URL as found in the message. Returns undefined for things that are not links we
 * can judge (javascript:, cid:, anchors, relative paths).
 */
export function classifyUri(rawUrl: string, source: UriSource, anchorText?: string): UriInfo | undefined {
  let s = rawUrl.trim();
  if (!s || s.startsWith('#')) return undefined;
  if (/^www\./i.test(s)) s = 'http://' + s;
  // Protocol-relative links (`//host/path`) are http(s) in mail clients.
  if (s.startsWith('//')) s = 'http:' + s;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) return undefined;
  const scheme = s.slice(0, s.indexOf(':')).toLowerCase();
  if (scheme === 'mailto') {
    const addr = decodeSafe(s.slice(7).split('?')[0] ?? '');
    const at = addr.lastIndexOf('@');
    const host = at >= 0 ? addr.slice(at + 1).toLowerCase() : '';
    return build(s, host, source, anchorText);
  }
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'ftp') return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return undefined;
  }
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return build(url.href, host, source, anchorText);
}

function build(url: string, host: string, source: UriSource, anchorText?: string): UriInfo {
  const ipLiteral = net.isIP(host) !== 0;
  const punycode = !ipLiteral && /(^|\.)xn--/.test(host);
  let domain = '';
  if (host && !ipLiteral) {
    const p = tldParse(host, { allowPrivateDomains: false });
    domain = p.domain ?? '';
  }
  const info: UriInfo = {
    url: url.length > 2000 ? url.slice(0, 2000) : url,
    host,
    domain,
    source,
    ipLiteral,
    punycode,
    unicodeHost: punycode ? domainToUnicode(host) || host : host,
    ...(anchorText !== undefined ? { anchorText } : {}),
  };
  return info;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The registrable domain a link text *shows*, e.g. `www.paypal.com/login` → `paypal.com`, or
 * undefined when the text does not look like a URL or host name (most link texts: "click here").
 */
export function domainShownInText(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (t.length < 4 || t.length > 300) return undefined;
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^\s/@]+@)?([a-z0-9\u00a1-\uffff-]+(?:\.[a-z0-9\u00a1-\uffff-]+)+)(?::\d+)?(?:[/?#]\S*)?$/.exec(t);
  if (!m) return undefined;
  const host = m[1]!;
  if (net.isIP(host)) return host;
  const p = tldParse(host, { allowPrivateDomains: false });
  // Require a known public suffix so "file.txt" or "v1.2" are not taken for domains.
  if (!p.domain || !p.isIcann) return undefined;
  return p.domain;
}
