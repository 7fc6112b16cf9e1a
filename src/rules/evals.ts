/**
 * Built-in "eval" tests: evidence a regex cannot express, written in TypeScript and referenced from
 * rule files as `eval: NAME` (optionally with `args:`), so admins keep control of ids and scores.
 * Each returns the options to report, or undefined for no hit.
 */
import { getDomain } from 'tldts';
import { domainShownInText } from '../message/index.js';
import type { RuleInput } from './types.js';
import { shorten } from './regex.js';

export type EvalArgs = Readonly<Record<string, unknown>>;
export interface EvalTest {
  readonly description: string;
  /** Allowed numeric args with defaults. */
  readonly args?: Readonly<Record<string, number>>;
  run(input: RuleInput, args: Readonly<Record<string, number>>): readonly string[] | undefined;
}

const regDomain = (d: string): string => getDomain(d, { allowPrivateDomains: false }) ?? d.toLowerCase();

/** The hosts of the envelope recipients (RFC 5321 §4.1.2 Forward-path). */
function rcptDomains(input: RuleInput): string[] {
  const out = new Set<string>();
  for (const r of input.envelope.rcptTo) {
    const at = r.lastIndexOf('@');
    if (at >= 0) out.add(r.slice(at + 1).toLowerCase().replace(/>$/, ''));
  }
  return [...out];
}

/** Date of the topmost Received field (RFC 5322 §3.6.7: the date follows the last `;`). */
function receivedTime(input: RuleInput): number | undefined {
  const r = input.msg.header('received')[0];
  if (!r) return undefined;
  const semi = r.raw.lastIndexOf(';');
  if (semi < 0) return undefined;
  const t = Date.parse(r.raw.slice(semi + 1).replace(/\([^)]*\)/g, '').trim());
  return Number.isFinite(t) ? t : undefined;
}

// Scripts whose letters pass for Latin ones in host names (IDN homograph attacks, RFC 5890 §4.2 / UTS #39).
const LATIN = /[a-z]/;
const LOOKALIKE = /[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]/; // Greek, Cyrillic, Cyrillic Supplement
const CYRILLIC_LATIN_LOOKING = /^[\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u04bb\u04cf\u0501\u051b\u051d.-]+$/;

export const EVALS: Readonly<Record<string, EvalTest>> = {
  link_text_domain_mismatch: {
    description: 'An HTML link whose text shows one domain while its href points to another',
    run({ msg }) {
      for (const u of msg.uris) {
        if (u.source !== 'a' || !u.anchorText || !u.host) continue;
        const shown = domainShownInText(u.anchorText);
        if (!shown) continue;
        const target = u.domain || u.host;
        if (shown !== target) return [`${shorten(u.anchorText, 30)} -> ${target}`];
      }
      return undefined;
    },
  },
  uri_homoglyph_host: {
    description: 'A link host mixing Latin with Greek/Cyrillic letters, or spelt in Cyrillic letters that look Latin',
    run({ msg }) {
      for (const u of msg.uris) {
        if (!u.punycode) continue;
        for (const label of u.unicodeHost.split('.')) {
          if ((LATIN.test(label) && LOOKALIKE.test(label)) || (label.length > 1 && CYRILLIC_LATIN_LOOKING.test(label))) return [u.host];
        }
      }
      return undefined;
    },
  },
  html_credential_form: {
    description: 'HTML contains a form with a password field',
    run({ msg }) {
      if (msg.htmlSignals.passwordInputs === 0) return undefined;
      const f = msg.htmlSignals.forms.find((x) => x.hasPassword);
      return [shorten(f?.action || 'password input', 60)];
    },
  },
  display_name_spoofs_recipient_domain: {
    description: "From display name shows a recipient's domain while the address is elsewhere",
    run(input) {
      const domains = rcptDomains(input);
      if (domains.length === 0) return undefined;
      for (const f of input.msg.from) {
        const name = f.name.toLowerCase();
        if (!name) continue;
        const fromReg = regDomain(f.domain);
        for (const d of domains) {
          const reg = regDomain(d);
          if (fromReg === reg) continue;
          if (name.includes(d) || name.includes(reg)) return [`${shorten(f.name, 30)} <${f.domain}>`];
        }
      }
      return undefined;
    },
  },
  reply_to_from_domain_mismatch: {
    description: 'Reply-To points to a different registrable domain than From (mailing lists excepted)',
    run({ msg }) {
      // Mailing lists (RFC 2369 List-* / RFC 2919 List-Id) set Reply-To to the list on purpose.
      if (msg.header('list-id').length || msg.header('list-post').length || msg.header('mailing-list').length) return undefined;
      const from = msg.from[0];
      const rt = msg.replyTo[0];
      if (!from?.domain || !rt?.domain) return undefined;
      const a = regDomain(from.domain);
      const b = regDomain(rt.domain);
      return a === b ? undefined : [`${a} -> ${b}`];
    },
  },
  date_missing: {
    description: 'No Date header (required by RFC 5322 §3.6)',
    run: ({ msg }) => (msg.header('date').length === 0 ? [] : undefined),
  },
  date_invalid: {
    description: 'Date header present but not a parseable RFC 5322 §3.3 date',
    run: ({ msg }) => (msg.header('date').length > 0 && !msg.date ? [shorten(msg.header('date')[0]!.raw)] : undefined),
  },
  date_in_future: {
    description: 'Date is later than the top Received time (or now) by more than `hours`',
    args: { hours: 24 },
    run(input, a) {
      if (!input.msg.date) return undefined;
      const ref = receivedTime(input) ?? input.now;
      const d = input.msg.date.getTime() - ref;
      return d > a.hours! * 3600_000 ? [`+${Math.round(d / 3600_000)}h`] : undefined;
    },
  },
  date_in_past: {
    description: 'Date is earlier than the top Received time (or now) by more than `hours`',
    args: { hours: 96 },
    run(input, a) {
      if (!input.msg.date) return undefined;
      const ref = receivedTime(input) ?? input.now;
      const d = ref - input.msg.date.getTime();
      return d > a.hours! * 3600_000 ? [`-${Math.round(d / 3600_000)}h`] : undefined;
    },
  },
  message_id_missing: {
    description: 'No Message-ID header (RFC 5322 §3.6.4 SHOULD)',
    run: ({ msg }) => (msg.header('message-id').length === 0 ? [] : undefined),
  },
  from_malformed: {
    description: 'From missing, repeated, or without a valid addr-spec (RFC 5322 §3.6.2, §3.4.1)',
    run({ msg }) {
      const fields = msg.header('from');
      if (fields.length === 0) return ['missing'];
      if (fields.length > 1) return ['repeated'];
      if (msg.from.length === 0) return [shorten(fields[0]!.raw)];
      for (const f of msg.from) {
        if (!/^[^\s@<>()[\]\\,;:"]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i.test(f.address)) {
          return [shorten(fields[0]!.raw)];
        }
      }
      return undefined;
    },
  },
  html_hidden_text: {
    description:
      'HTML hides at least `minChars` characters of text (display:none, font-size:0, same-colour text …), and at least `minRatio` of the visible amount',
    args: { minChars: 100, minRatio: 0.1 },
    run({ msg }, a) {
      const s = msg.htmlSignals;
      // Long newsletters hide a few words in layout tricks; spam hides paragraphs of filler.
      if (s.hiddenTextLength < a.minChars! || s.hiddenTextLength < a.minRatio! * s.visibleTextLength) return undefined;
      return [...s.hiddenReasons];
    },
  },
  html_excessive_entities: {
    description: 'HTML spells at least `min` ASCII letters/digits as numeric character references (&#105;&#110;…)',
    args: { min: 50 },
    run({ msg }, a) {
      const n = msg.htmlSignals.numericEntityCount;
      return n >= a.min! ? [String(n)] : undefined;
    },
  },
  image_only: {
    description: 'HTML with images and less than `maxText` characters of text',
    args: { maxText: 100, minImages: 1 },
    run({ msg }, a) {
      const s = msg.htmlSignals;
      if (!msg.html || s.imageCount < a.minImages!) return undefined;
      const textLen = s.visibleTextLength + msg.text.replace(/\s+/g, '').length;
      return textLen < a.maxText! ? [`${s.imageCount} images, ${textLen} chars`] : undefined;
    },
  },
};
