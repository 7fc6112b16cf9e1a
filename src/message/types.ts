/**
 * The parsed message model shared by every content check (rules, URI blocklists, Bayes, history).
 *
 * Built once per message by `parseMessage()` (memoized per Buffer) so each check reads the same
 * decoded view without parsing again. Bodies are capped (see `ParseLimits`): only the first
 * `bodyScanBytes` of each decoded body and of the raw body are kept for scanning, the way
 * SpamAssassin and rspamd bound their per-message work.
 */

/** One header field as it appears in the message, in order. */
export interface HeaderField {
  /** Field name as written (case preserved), e.g. `Reply-To`. */
  readonly name: string;
  /** Lower-cased name, for lookups. */
  readonly lname: string;
  /** Undecoded value (after the colon), folding CRLFs removed, leading space trimmed. */
  readonly raw: string;
  /** Value with RFC 2047 encoded-words decoded. */
  readonly value: string;
}

/** A mailbox from an address header (From, Reply-To …). */
export interface MailAddress {
  /** addr-spec as written, e.g. `alice@example.com`; '' if the header had only a display name. */
  readonly address: string;
  /** Display name (decoded), '' if none. */
  readonly name: string;
  /** Lower-cased domain part of `address`, '' if none. */
  readonly domain: string;
}

/** Where a URI was found. */
export type UriSource = 'text' | 'a' | 'img' | 'form' | 'other';

/** A link extracted from the text body or the HTML. */
export interface UriInfo {
  /** Normalized URL (WHATWG URL serialization; hosts in punycode). */
  readonly url: string;
  /** Lower-cased host name or IP literal (IPv6 without brackets). '' for non-host URLs (mailto:). */
  readonly host: string;
  /** Registrable domain (public-suffix aware, via tldts), '' for IP literals or unknown suffixes. */
  readonly domain: string;
  readonly source: UriSource;
  /** For `<a>` links: the visible link text (trimmed, at most 200 chars). */
  readonly anchorText?: string;
  /** The host is an IPv4/IPv6 literal (or a decimal/hex encoded IPv4 like `http://3232235777/`). */
  readonly ipLiteral: boolean;
  /** Some label of the host is an IDN (`xn--`). */
  readonly punycode: boolean;
  /** Host with IDN labels decoded to Unicode (equal to `host` when not punycode). */
  readonly unicodeHost: string;
}

/** A MIME part with a file name or a non-text content type. */
export interface AttachmentInfo {
  /** File name (decoded), '' if none. */
  readonly filename: string;
  /** Declared Content-Type, lower-cased, without parameters. */
  readonly contentType: string;
  /** Type recognised from the first bytes (see sniff.ts), or undefined when unknown. */
  readonly sniffedType?: string;
  /** The sniffed type contradicts the declared type or the file extension (e.g. `invoice.pdf` that is an MZ executable). */
  readonly typeMismatch: boolean;
  /** Decoded size in bytes. */
  readonly size: number;
  /** Entry names from a ZIP central directory (at most 1000), when the part is a ZIP. */
  readonly archiveEntries: readonly string[];
  /** Inline part (Content-Disposition inline or cid-referenced). */
  readonly inline: boolean;
}

/** Signals computed while walking the HTML part (only the first `bodyScanBytes` of it). */
export interface HtmlSignals {
  /** Number of character references (`&amp;`, `&#105;`, `&#x69;`) in the HTML source. */
  readonly entityCount: number;
  /**
   * Of those, numeric references in text (not inside tags) to ASCII letters and digits (`&#105;`
   * for `i`): the obfuscation kind. References to non-ASCII characters (accents, CJK) and named ones (`&nbsp;`) are not counted.
   */
  readonly numericEntityCount: number;
  /** `<img>` elements. */
  readonly imageCount: number;
  /** Characters of visible text (whitespace collapsed). */
  readonly visibleTextLength: number;
  /** Characters of text inside elements hidden by style (display:none, visibility:hidden, font-size:0/1px, same-colour text). */
  readonly hiddenTextLength: number;
  /** Which hiding techniques were seen, e.g. `display:none`, `font-size:0`, `white-on-white`. */
  readonly hiddenReasons: readonly string[];
  /** `<form>` elements with their action and whether they contain a password input. */
  readonly forms: readonly { readonly action: string; readonly hasPassword: boolean }[];
  /** Any `<input type=password>` anywhere in the HTML. */
  readonly passwordInputs: number;
}

/** The decoded view of one message. All strings are capped; see ParseLimits. */
export interface ParsedMessage {
  /** The full message exactly as received. */
  readonly raw: Buffer;
  /** Size of `raw` in bytes. */
  readonly size: number;
  /** Header fields of the top-level header block, in order. */
  readonly headers: readonly HeaderField[];
  /** All fields with this name (case-insensitive), in order; [] if none. */
  header(name: string): readonly HeaderField[];
  /** Decoded value of the first field with this name, or undefined. */
  headerValue(name: string): string | undefined;
  /** All header fields as `Name: decoded value` lines joined with `\n` (SpamAssassin's `ALL`). */
  readonly headersText: string;
  /** The header block as received (undecoded, folding kept), without the blank line. */
  readonly rawHeaders: string;
  /** Decoded Subject, '' if none. */
  readonly subject: string;
  readonly from: readonly MailAddress[];
  readonly replyTo: readonly MailAddress[];
  /** Parsed Date header, undefined when missing or unparseable. */
  readonly date?: Date;
  /** Decoded text/plain body (first `bodyScanBytes`), '' if none. */
  readonly text: string;
  /** The HTML body converted to text with html-to-text (first `bodyScanBytes` of HTML), '' if none. */
  readonly htmlText: string;
  /** The decoded HTML source (first `bodyScanBytes`), '' if none. */
  readonly html: string;
  /** The body as received, still transfer-encoded (first `bodyScanBytes`). */
  readonly rawBody: Buffer;
  readonly uris: readonly UriInfo[];
  readonly attachments: readonly AttachmentInfo[];
  readonly htmlSignals: HtmlSignals;
  /** Some body was longer than the scan cap and was cut. */
  readonly truncated: boolean;
}

/** Caps on the work spent per message. */
export interface ParseLimits {
  /**
   * Bytes of each decoded body (text, HTML) and of the raw body kept for scanning. Default 128 KiB:
   * spam payloads sit at the top, and regex work is linear in this size.
   */
  readonly bodyScanBytes: number;
  /** Most URIs kept per message (default 500). */
  readonly maxUris: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = Object.freeze({ bodyScanBytes: 128 * 1024, maxUris: 500 });
