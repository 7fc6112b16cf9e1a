/**
 * `parseMessage(raw)`: the one place a message is MIME-parsed. Memoized per Buffer (on the Buffer,
 * see PARSED), so every content check of a transaction shares one parse and the cache dies with
 * the message.
 *
 * mailparser (FIELD-NOTES §5) does the MIME work; we ask it not to render HTML or text links
 * (`skipHtmlToText`, `skipTextToHtml`, `skipTextLinks`, `keepCidLinks`) because we cap the HTML
 * first and render it once with a precompiled html-to-text converter.
 */
import { simpleParser, type AddressObject, type Attachment } from 'mailparser';
import libmime from 'libmime';
import { compile } from 'html-to-text';
import { scanHtml } from './html.js';
import { classifyUri, findTextUrls } from './uris.js';
import { sniffType, typeMismatch, zipEntryNames } from './sniff.js';
import {
  DEFAULT_PARSE_LIMITS,
  type AttachmentInfo,
  type HeaderField,
  type HtmlSignals,
  type MailAddress,
  type ParsedMessage,
  type ParseLimits,
  type UriInfo,
} from './types.js';

export type * from './types.js';
export { DEFAULT_PARSE_LIMITS } from './types.js';

let limits: ParseLimits = DEFAULT_PARSE_LIMITS;

/**
 * Set the process-wide scan caps (from `rules.bodyScanBytes`). Applies to messages parsed after the
 * call; the memo is per Buffer, so a message is never parsed twice with different caps.
 */
export function setParseLimits(l: Partial<ParseLimits>): void {
  limits = Object.freeze({ ...DEFAULT_PARSE_LIMITS, ...limits, ...l });
}

export function getParseLimits(): ParseLimits {
  return limits;
}

/**
 * The memo lives on the Buffer itself (a non-enumerable symbol-keyed property), not in a
 * module-level WeakMap. Why (issue 6, idle p99 latency): a long-lived WeakMap sits in V8's old
 * space, and V8's young-generation GC (scavenge) does not free its entries — their values survive
 * every scavenge, get promoted, and only a Mark-Compact frees them. Measured on Node 20: 4000
 * short-lived keys with ≈ 9 KB values promoted ≈ 28 MB through an old-space WeakMap, 8 KB with the
 * value on a property of the key. Here each parsed message (strings, headers, URIs: about half of
 * the ≈ 33 KB promoted per lone 10 KB transaction) filled old space until a Mark-Compact, whose
 * pauses are part of the idle latency tail (bench/README.md, "Full stack").
 * A property on the key dies with the key in the young generation.
 */
const PARSED = Symbol('spamgate.parsedMessage');
type Memoized = Buffer & { [PARSED]?: Promise<ParsedMessage> };

/**
 * Parse a message (CRLF or LF line endings; a leading mbox `From ` line is ignored). The same
 * Buffer always yields the same (shared, read-only) ParsedMessage promise.
 */
export function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const m = raw as Memoized;
  let p = m[PARSED];
  if (!p) {
    p = doParse(raw, limits);
    // A caller's non-extensible Buffer is parsed again next time rather than refused.
    if (Object.isExtensible(m)) Object.defineProperty(m, PARSED, { value: p, enumerable: false, configurable: true, writable: false });
  }
  return p;
}

const htmlToText = compile({
  wordwrap: false,
  // The HTML is capped before conversion; nesting depth bounds the renderer's recursion.
  limits: { maxDepth: 64, maxInputLength: 4 * 1024 * 1024 },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
  ],
});

const EMPTY_SIGNALS: HtmlSignals = Object.freeze({
  entityCount: 0,
  numericEntityCount: 0,
  imageCount: 0,
  visibleTextLength: 0,
  hiddenTextLength: 0,
  hiddenReasons: [],
  forms: [],
  passwordInputs: 0,
});

async function doParse(raw: Buffer, lim: ParseLimits): Promise<ParsedMessage> {
  const input = stripMboxLine(raw);
  const bodyStart = findBodyStart(input);
  const mail = await simpleParser(input, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    keepCidLinks: true,
    maxHtmlLengthToParse: lim.bodyScanBytes,
  });

  const headers: HeaderField[] = mail.headerLines.map(({ line }) => {
    const colon = line.indexOf(':');
    const name = colon >= 0 ? line.slice(0, colon).trim() : line.trim();
    const rawValue = colon >= 0 ? line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').replace(/^[ \t]+/, '') : '';
    let value = rawValue;
    if (rawValue.includes('=?')) {
      try {
        value = libmime.decodeWords(rawValue);
      } catch {
        value = rawValue;
      }
    }
    return { name, lname: name.toLowerCase(), raw: rawValue, value };
  });
  const byName = new Map<string, HeaderField[]>();
  for (const h of headers) {
    const list = byName.get(h.lname);
    if (list) list.push(h);
    else byName.set(h.lname, [h]);
  }

  let truncated = false;
  const cap = (s: string | undefined | false): string => {
    if (!s) return '';
    if (s.length <= lim.bodyScanBytes) return s;
    truncated = true;
    return s.slice(0, lim.bodyScanBytes);
  };
  const text = cap(mail.text);
  const html = cap(mail.html);
  const rawBodyFull = input.subarray(bodyStart);
  if (rawBodyFull.length > lim.bodyScanBytes) truncated = true;
  const rawBody = rawBodyFull.subarray(0, lim.bodyScanBytes);

  let htmlText = '';
  let htmlSignals = EMPTY_SIGNALS;
  const uris: UriInfo[] = [];
  if (html) {
    try {
      htmlText = htmlToText(html);
    } catch {
      htmlText = '';
    }
    const scan = scanHtml(html, lim.maxUris);
    htmlSignals = scan.signals;
    uris.push(...scan.uris);
  }
  const seen = new Set(uris.map((u) => u.url));
  for (const t of [text, htmlText]) {
    for (const u of findTextUrls(t, lim.maxUris)) {
      if (uris.length >= lim.maxUris) break;
      const info = classifyUri(u, 'text');
      if (info && !seen.has(info.url)) {
        seen.add(info.url);
        uris.push(info);
      }
    }
  }

  const attachments = mail.attachments.map(toAttachmentInfo);
  const dateHeader = byName.get('date')?.[0]?.raw;
  const dateMs = dateHeader !== undefined ? Date.parse(dateHeader.replace(/\s*\([^)]*\)\s*$/, '')) : NaN;

  const msg: ParsedMessage = {
    raw,
    size: raw.length,
    headers,
    header: (name) => byName.get(name.toLowerCase()) ?? [],
    headerValue: (name) => byName.get(name.toLowerCase())?.[0]?.value,
    headersText: headers.map((h) => `${h.name}: ${h.value}`).join('\n'),
    rawHeaders: input.subarray(0, bodyStart).toString('latin1').replace(/\r?\n\r?\n$/, ''),
    subject: byName.get('subject')?.[0]?.value.trim() ?? '',
    from: addresses(mail.from),
    replyTo: addresses(mail.replyTo),
    ...(Number.isFinite(dateMs) ? { date: new Date(dateMs) } : {}),
    text,
    htmlText,
    html,
    rawBody,
    uris,
    attachments,
    htmlSignals,
    truncated,
  };
  return Object.freeze(msg);
}

function toAttachmentInfo(a: Attachment): AttachmentInfo {
  const content = a.content;
  const sniffed = sniffType(content);
  const contentType = (a.contentType ?? '').toLowerCase().split(';')[0]!.trim();
  const filename = a.filename ?? '';
  return {
    filename,
    contentType,
    ...(sniffed ? { sniffedType: sniffed } : {}),
    typeMismatch: typeMismatch(sniffed, contentType, filename),
    size: a.size ?? content.length,
    archiveEntries: sniffed === 'zip' ? zipEntryNames(content) : [],
    inline: a.contentDisposition === 'inline' || a.related === true,
  };
}

function addresses(obj: AddressObject | undefined): MailAddress[] {
  if (!obj) return [];
  const out: MailAddress[] = [];
  const walk = (list: AddressObject['value']) => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else {
        const address = (a.address ?? '').trim();
        const at = address.lastIndexOf('@');
        out.push({ address, name: (a.name ?? '').trim(), domain: at >= 0 ? address.slice(at + 1).toLowerCase() : '' });
      }
    }
  };
  walk(obj.value);
  return out;
}

/** The scan CLI and corpus files may start with an mbox `From ` separator line: skip it. */
function stripMboxLine(raw: Buffer): Buffer {
  if (raw.length > 5 && raw.toString('latin1', 0, 5) === 'From ') {
    const nl = raw.indexOf(10);
    if (nl > 0) return raw.subarray(nl + 1);
  }
  return raw;
}

/** Offset of the first body byte: after the first empty line (CRLF or LF), or the end. */
function findBodyStart(b: Buffer): number {
  const crlf = b.indexOf('\r\n\r\n');
  const lf = b.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return b.length;
  if (crlf >= 0 && (lf < 0 || crlf + 1 < lf)) return crlf + 4;
  return lf + 2;
}
