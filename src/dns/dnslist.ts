/**
 * Reading DNS list answers (RFC 5782 §2.3): which A records are listings, which are the operator
 * telling us it refuses to answer, and which are garbage. Pure, table-tested.
 *
 * - 127.255.255.0/24 is Spamhaus' error range (254 = query via a public/open resolver, 255 = rate
 *   limited, 252 = typo'd zone); never a listing (https://www.spamhaus.org/news/article/788/).
 * - Per-list error codes too, e.g. DNSWL 127.0.0.255, DBL 127.0.1.255 (an IP queried as a domain).
 * - A list may return several A records (ZEN: SBL + XBL + PBL at once, FIELD-NOTES §6).
 * - Bit-mask lists (SURBL, URIBL multi) set one bit per sub-list in the last octet; bit 1 there means
 *   "query refused" (rspamd conf/scores.d/rbl_group.conf).
 * - Anything outside 127.0.0.0/8 is not a DNSBL answer at all (e.g. an expired zone whose domain
 *   now points at a parking page): treated as an error, never as listed.
 */
export interface CodeSymbol {
  readonly symbol: string;
  readonly score: number;
  readonly description?: string;
}
export interface DnsListSpec {
  readonly returnCodes: Readonly<Record<string, CodeSymbol>>;
  readonly bitmask?: Readonly<Record<string, CodeSymbol>>;
  readonly errorCodes: readonly string[];
}

export interface ListAnswer {
  /** Matched symbols with the code that matched. */
  readonly hits: readonly { readonly symbol: string; readonly code: string }[];
  /** Error answers (never listings). */
  readonly errors: readonly string[];
  /** Listing codes this config does not map (logged, not scored). */
  readonly unmapped: readonly string[];
}

export function isErrorAnswer(code: string, spec: Pick<DnsListSpec, 'errorCodes' | 'bitmask'>): boolean {
  if (!code.startsWith('127.')) return true;
  if (code.startsWith('127.255.255.')) return true;
  if (spec.errorCodes.includes(code)) return true;
  if (spec.bitmask) return (Number(code.split('.')[3]) & 1) === 1;
  return false;
}

export function classifyListAnswer(addresses: readonly string[], spec: DnsListSpec): ListAnswer {
  const hits: { symbol: string; code: string }[] = [];
  const errors: string[] = [];
  const unmapped: string[] = [];
  for (const code of addresses) {
    if (isErrorAnswer(code, spec)) {
      errors.push(code);
      continue;
    }
    let matched = false;
    const exact = spec.returnCodes[code] ?? wildcardMatch(code, spec.returnCodes);
    if (exact) {
      hits.push({ symbol: exact.symbol, code });
      matched = true;
    }
    if (spec.bitmask) {
      const last = Number(code.split('.')[3]);
      for (const [bit, sym] of Object.entries(spec.bitmask)) {
        if (last & Number(bit)) {
          hits.push({ symbol: sym.symbol, code });
          matched = true;
        }
      }
    }
    if (!matched) unmapped.push(code);
  }
  return { hits, errors, unmapped };
}

/** Keys may use `*` for an octet, e.g. DNSWL's `127.0.*.3` (any category, trust "high"). */
function wildcardMatch(code: string, codes: Readonly<Record<string, CodeSymbol>>): CodeSymbol | undefined {
  const octets = code.split('.');
  for (const [key, sym] of Object.entries(codes)) {
    if (!key.includes('*')) continue;
    const k = key.split('.');
    if (k.length === 4 && k.every((o, i) => o === '*' || o === octets[i])) return sym;
  }
  return undefined;
}

/** Every symbol a list can emit, from its config (declared up front, ARCHITECTURE habit 2). */
export function listSymbols(spec: DnsListSpec): CodeSymbol[] {
  const seen = new Map<string, CodeSymbol>();
  for (const s of [...Object.values(spec.returnCodes), ...Object.values(spec.bitmask ?? {})]) if (!seen.has(s.symbol)) seen.set(s.symbol, s);
  return [...seen.values()];
}
