/**
 * Verdict headers for relayed mail (pure). SpamAssassin-compatible so existing Sieve/procmail
 * rules keep working (`header :is "X-Spam-Flag" "YES"`), plus a per-symbol header so an admin or
 * user can see why (rspamd's X-Spamd-Result style):
 *
 *   Authentication-Results: <AUTH_RESULTS fact>   (trace field, first; RFC 8601)
 *   X-Spam-Flag: YES|NO                           (YES for tag and reject)
 *   X-Spam-Score: 7.3
 *   X-Spam-Level: *******                         (one * per whole point, at most 50)
 *   X-Spam-Status: Yes, score=7.3 required=6.0 tests=A,B   (tests sorted by name)
 *   X-Spamgate-Symbols: A(5.00)[opt]; B(2.30)     (by score, then name)
 *
 * Long fields are folded at < 998 characters per line (RFC 5322 §2.1.1, §2.2.3) and the symbol
 * header is bounded. Incoming X-Spam-*, X-Spamgate-* and Authentication-Results claiming our
 * authserv-id (RFC 8601 §5) are removed, so a sender cannot pre-set them.
 */
import type { Verdict } from './types.js';

/** Longest physical line we write (RFC 5322 §2.1.1 recommends 78, requires ≤ 998). */
export const FOLD_AT = 78;
/** At most this many symbols in X-Spamgate-Symbols (the rest summarised as `…(+N)`). */
export const MAX_SYMBOLS_IN_HEADER = 60;

export interface TaggingInput {
  readonly verdict: Verdict;
  /** Our authserv-id (config.hostname). */
  readonly hostname: string;
  /** Value of the AUTH_RESULTS fact, when an auth check published one. */
  readonly authResults?: string;
  /** `actions.subjectPrefix`; applied only on `tag`. */
  readonly subjectPrefix?: string;
  /** The message's current Subject (unfolded), undefined when it has none. */
  readonly subject?: string;
}

export interface Tagging {
  readonly prependHeaders: string[];
  readonly removeHeader: (name: string, value: string) => boolean;
  readonly newSubject?: string;
}

export function isSpam(v: Verdict): boolean {
  return v.action === 'tag' || v.action === 'reject';
}

export function fmt1(n: number): string {
  const s = n.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
}
export function fmt2(n: number): string {
  const s = n.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

export function buildTagging(input: TaggingInput): Tagging {
  const v = input.verdict;
  const spam = isSpam(v);
  const headers: string[] = [];
  if (input.authResults) headers.push(`Authentication-Results: ${input.authResults}`);
  headers.push(`X-Spam-Flag: ${spam ? 'YES' : 'NO'}`);
  headers.push(`X-Spam-Score: ${fmt1(v.score)}`);
  const stars = '*'.repeat(Math.min(50, Math.max(0, Math.floor(v.score))));
  headers.push(stars ? `X-Spam-Level: ${stars}` : 'X-Spam-Level:');
  headers.push(spamStatus(v));
  headers.push(symbolsHeader(v));

  let newSubject: string | undefined;
  if (v.action === 'tag' && input.subjectPrefix) {
    const subject = input.subject ?? '';
    const prefix = input.subjectPrefix;
    // Do not stack prefixes when a message passes us twice.
    newSubject = subject.startsWith(prefix.trim()) ? undefined : (prefix + subject.trimStart()).trimEnd() || undefined;
  }
  const hostname = input.hostname.toLowerCase();
  return {
    prependHeaders: headers,
    removeHeader: (name, value) => removesIncoming(name, value, hostname),
    ...(newSubject !== undefined ? { newSubject } : {}),
  };
}

/** `X-Spam-Status: Yes, score=7.3 required=6.0 tests=A,B` (SpamAssassin's format). */
export function spamStatus(v: Verdict): string {
  const tests = v.symbols.map((s) => s.name).sort();
  const head = `X-Spam-Status: ${isSpam(v) ? 'Yes' : 'No'}, score=${fmt1(v.score)} required=${fmt1(v.required)} tests=`;
  return fold(head, tests.length ? tests : ['none'], ',');
}

/** `X-Spamgate-Symbols: A(5.00)[opt1,opt2]; B(2.30)` — bounded, folded. */
export function symbolsHeader(v: Verdict): string {
  const shown = v.symbols.slice(0, MAX_SYMBOLS_IN_HEADER);
  const items = shown.map((s) => `${s.name}(${fmt2(s.score)})${s.options.length ? `[${s.options.map(encodeOption).join(',')}]` : ''}`);
  if (v.symbols.length > shown.length) items.push(`...(+${v.symbols.length - shown.length})`);
  return fold('X-Spamgate-Symbols: ', items.length ? items : ['none'], ';', ' ');
}

/**
 * Options come from attacker-controlled text (URLs, names). Keep them printable ASCII and free of
 * the separators of this header: percent-encode `%`, `,`, `;`, `[`, `]`, whitespace, controls and
 * non-ASCII (as UTF-8 bytes).
 */
const NEEDS_ENCODING = /[^\x21-\x7e]|[%,;[\]]/u;
export function encodeOption(o: string): string {
  // Most options (domains, IPs, check names) need nothing: skip the replace and its closure.
  if (!NEEDS_ENCODING.test(o)) return o;
  return o.replace(/[^\x21-\x7e]|[%,;[\]]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** Join items after `head`, folding with CRLF + TAB (RFC 5322 §2.2.3) before a line passes FOLD_AT. */
function fold(head: string, items: readonly string[], sep: string, space = ''): string {
  let out = head;
  let lineLen = head.length;
  items.forEach((item, i) => {
    const piece = (i < items.length - 1 ? item + sep : item);
    const lead = i === 0 ? '' : space;
    if (i > 0 && lineLen + lead.length + piece.length > FOLD_AT) {
      out += '\r\n\t' + piece;
      lineLen = 1 + piece.length;
    } else {
      out += lead + piece;
      lineLen += lead.length + piece.length;
    }
  });
  return out;
}

/** Whether an incoming header field must go (name lower-case, value unfolded). */
export function removesIncoming(name: string, value: string, hostname: string): boolean {
  if (name.startsWith('x-spam-') || name.startsWith('x-spamgate-')) return true;
  if (name === 'authentication-results') return authservId(value)?.toLowerCase() === hostname.toLowerCase();
  return false;
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: `authserv-id` is a `value`,
 * i.e. a token or a quoted-string, RFC 2045 §5.1), after any leading CFWS comments.
 */
export function authservId(value: string): string | undefined {
  let s = value.trimStart();
  // Skip comments, which may nest (RFC 5322 §3.2.2).
  while (s.startsWith('(')) {
    let depth = 0;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
    }
    s = s.slice(i + 1).trimStart();
  }
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
    return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
  }
  const m = /^[^\s;()"]+/.exec(s);
  return m ? m[0] : undefined;
}
