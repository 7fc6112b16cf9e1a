/**
 * SPF record syntax check (RFC 7208 §12 ABNF), run on every `v=spf1` record SPF evaluation fetches.
 * mailauth 4.13.3 tolerates some malformed records that RFC 7208 §4.6 says must yield permerror
 * "immediately, without further interpretation" (RFC 7208 suite: bare-ip6, exp-twice,
 * exp-syntax-error, exp-only-macro-char). Returns undefined when valid, else the reason.
 */
import net from 'node:net';

const TOPLABEL = /^(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])$/i;
const NAME = /^[a-z][a-z0-9\-_.]*$/i;
const DOMAIN_MACRO_LETTERS = 'slodiphv'; // c, r, t only in exp text (RFC 7208 §7.2)

/** macro-string: literals %x21-24 / %x26-7E and macro-expands (RFC 7208 §7.1). */
function macroStringOk(s: string, letters: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (s[i] === '%') {
      const next = s[i + 1];
      if (next === '%' || next === '_' || next === '-') {
        i++;
        continue;
      }
      const m = /^%\{([a-z])(\d*)(r?)([.\-+,/_=]*)\}/i.exec(s.slice(i));
      if (!m || !letters.includes(m[1]!.toLowerCase())) return false;
      i += m[0].length - 1;
      continue;
    }
    if (ch < 0x21 || ch > 0x7e) return false;
  }
  return true;
}

/** domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand. */
function domainSpecOk(s: string): boolean {
  if (!s || !macroStringOk(s, DOMAIN_MACRO_LETTERS)) return false;
  if (/%\{[^}]*\}$/.test(s)) return true;
  const labels = s.replace(/\.$/, '').split('.');
  if (labels.length < 2) return false;
  return TOPLABEL.test(labels[labels.length - 1]!);
}

function cidrOk(v: string, max: number): boolean {
  return /^(0|[1-9]\d?\d?)$/.test(v) && Number(v) <= max;
}

/** Optional `/n4` and `//n6` after a/mx targets (dual-cidr-length). */
function splitDualCidr(arg: string): { spec: string; ok: boolean } {
  const m = /^(.*?)(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(arg)!;
  const ok = (m[2] === undefined || cidrOk(m[2], 32)) && (m[3] === undefined || cidrOk(m[3], 128));
  return { spec: m[1]!, ok };
}

export function spfSyntaxError(record: string): string | undefined {
  const terms = record.split(' ').filter((t) => t !== '');
  if (terms.shift()?.toLowerCase() !== 'v=spf1') return 'not an SPF record';
  const seen = new Set<string>();
  for (const term of terms) {
    const mod = /^([^:/=]+)=(.*)$/.exec(term);
    if (mod) {
      const name = mod[1]!.toLowerCase();
      if (!NAME.test(name)) return `bad modifier name ${term}`;
      if (name === 'redirect' || name === 'exp') {
        if (seen.has(name)) return `${name}= appears twice (RFC 7208 §6)`;
        seen.add(name);
        if (!domainSpecOk(mod[2]!)) return `bad ${name}= domain-spec ${term}`;
      } else if (!macroStringOk(mod[2]!, DOMAIN_MACRO_LETTERS)) return `bad modifier value ${term}`;
      continue;
    }
    const m = /^([+\-~?]?)([a-z0-9]+)(?::(.*)|(\/.*))?$/i.exec(term);
    if (!m) return `bad term ${term}`;
    const mech = m[2]!.toLowerCase();
    const hasColon = m[3] !== undefined;
    const arg = m[3] ?? m[4] ?? '';
    switch (mech) {
      case 'all':
        if (arg) return `bad term ${term}`;
        break;
      case 'include':
      case 'exists':
        if (!hasColon || !domainSpecOk(arg)) return `bad ${mech} ${term}`;
        break;
      case 'a':
      case 'mx': {
        const { spec, ok } = splitDualCidr(arg);
        if (!ok || (hasColon && !domainSpecOk(spec)) || (!hasColon && spec !== '')) return `bad ${mech} ${term}`;
        break;
      }
      case 'ptr':
        if (hasColon ? !domainSpecOk(arg) : arg !== '') return `bad ptr ${term}`;
        break;
      case 'ip4': {
        const [ip, len, extra] = arg.split('/');
        if (!hasColon || extra !== undefined || !net.isIPv4(ip ?? '') || (len !== undefined && !cidrOk(len, 32))) return `bad ip4 ${term}`;
        break;
      }
      case 'ip6': {
        const slash = arg.lastIndexOf('/');
        const ip = slash >= 0 ? arg.slice(0, slash) : arg;
        const len = slash >= 0 ? arg.slice(slash + 1) : undefined;
        if (!hasColon || !net.isIPv6(ip) || (len !== undefined && !cidrOk(len, 128))) return `bad ip6 ${term}`;
        break;
      }
      default:
        return `unknown mechanism ${term}`;
    }
  }
  return undefined;
}
