/**
 * Evaluate a compiled RuleSet against one parsed message. Every non-meta rule runs once; metas run
 * afterwards in dependency order over the hit vector. A test that throws counts as no hit (and is
 * reported to the caller) so one bad rule never costs the message its other evidence.
 */
import type { Envelope } from '../core/types.js';
import type { ParsedMessage } from '../message/index.js';
import { getParseLimits } from '../message/index.js';
import type { CompiledRule, RuleInput, RuleSet, ScanTargets } from './types.js';
import { headerPart } from './header-part.js';

export interface RuleHit {
  readonly rule: CompiledRule;
  readonly options: readonly string[];
}

export interface EvalResult {
  /** Reported rules that hit (no `__` sub-rules), in rule-set order. */
  readonly hits: RuleHit[];
  /** Rules whose test threw, with the error message. */
  readonly errors: { readonly rule: string; readonly error: string }[];
}

/** Lazily build the UTF-8 buffers the regex tests scan, once per message. */
export function scanTargets(msg: ParsedMessage): ScanTargets {
  let body: Buffer | undefined;
  let rawbody: Buffer | undefined;
  let full: Buffer | undefined;
  const uriBufs = new Map<string, readonly Buffer[]>();
  const headerBufs = new Map<string, Buffer | undefined>();
  return {
    uris: (target) => {
      let list = uriBufs.get(target);
      if (!list) uriBufs.set(target, (list = msg.uris.map((u) => Buffer.from(target === 'domain' ? u.domain : target === 'host' ? u.host : u.url, 'utf8'))));
      return list;
    },
    header: (lname, part) => {
      const key = `${part}\0${lname}`;
      if (headerBufs.has(key)) return headerBufs.get(key);
      let value: string | undefined;
      if (lname === 'all') value = part === 'raw' ? msg.rawHeaders : msg.headersText;
      else {
        const fields = msg.header(lname);
        if (fields.length) value = fields.map((f) => headerPart(part === 'raw' ? f.raw : f.value, part)).join('\n');
      }
      const buf = value === undefined ? undefined : Buffer.from(value, 'utf8');
      headerBufs.set(key, buf);
      return buf;
    },
    // SpamAssassin's body: the Subject, then the decoded text parts, then the HTML rendered as text.
    body: () => (body ??= Buffer.from(`${msg.subject}\n${msg.text}\n${msg.htmlText}`, 'utf8')),
    // SpamAssassin's rawbody: transfer encoding decoded, HTML not rendered (tags and comments kept).
    rawbody: () => (rawbody ??= Buffer.from(`${msg.text}\n${msg.html}`, 'utf8')),
    full: () => {
      if (!full) {
        const cap = Buffer.byteLength(msg.rawHeaders, 'latin1') + 4 + getParseLimits().bodyScanBytes;
        full = msg.raw.length > cap ? msg.raw.subarray(0, cap) : msg.raw;
      }
      return full;
    },
  };
}

export function evaluateRules(set: RuleSet, msg: ParsedMessage, envelope: Envelope, now: number = Date.now()): EvalResult {
  const input: RuleInput = { msg, envelope, now, targets: scanTargets(msg) };
  const n = set.rules.length;
  const hits = new Uint8Array(n);
  const options: (readonly string[] | undefined)[] = new Array(n);
  const errors: { rule: string; error: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = set.rules[i]!;
    if (r.test) {
      try {
        const o = r.test(input);
        if (o) {
          hits[i] = 1;
          options[i] = o;
        }
      } catch (e) {
        errors.push({ rule: r.id, error: (e as Error).message });
      }
    } else if (r.meta && r.meta(hits)) {
      hits[i] = 1;
    }
  }
  const out: RuleHit[] = [];
  for (let i = 0; i < n; i++) {
    const r = set.rules[i]!;
    if (hits[i] && r.reported) out.push({ rule: r, options: options[i] ?? [] });
  }
  return { hits: out, errors };
}
