/**
 * Admin regexes run on attacker-controlled text, so every rule pattern is compiled with RE2
 * (linear time, no catastrophic backtracking). A pattern RE2 refuses is an error for the caller to
 * report with file:line — never a fallback to JS RegExp.
 */
import RE2 from 're2';
import type { RegexSpec } from './types.js';

/** Flags we accept: i (case-insensitive), m (^/$ at lines), s (dot matches newline), u (accepted, RE2 is always Unicode). */
const ALLOWED_FLAGS = /^[imsu]*$/;

/**
 * Read `/pattern/flags` (slash form) or a bare pattern with separate `flags`. Returns an error
 * string when the notation is malformed.
 */
export function parseRegexNotation(text: string, extraFlags = ''): RegexSpec | string {
  let source = text;
  let flags = extraFlags;
  if (text.length >= 2 && text.startsWith('/')) {
    const end = text.lastIndexOf('/');
    if (end <= 0) return `regex ${JSON.stringify(text)} has no closing /`;
    source = text.slice(1, end);
    flags += text.slice(end + 1);
  }
  if (!ALLOWED_FLAGS.test(flags)) return `unsupported regex flags "${flags}" (allowed: i, m, s, u)`;
  if (source === '') return 'empty regex';
  return { source, flags: [...new Set(flags.replace('u', ''))].join('') };
}

/** Compile with RE2; on refusal return an error string that names the construct. */
export function compileRe2(spec: RegexSpec): RE2 | string {
  try {
    return new RE2(spec.source, spec.flags + 'u');
  } catch (e) {
    return `RE2 cannot compile /${spec.source}/${spec.flags}: ${(e as Error).message}${hint(spec.source)}`;
  }
}

function hint(src: string): string {
  if (/\(\?<?[=!]/.test(src)) return ' (lookaround is not supported by RE2)';
  if (/\\[1-9]/.test(src) || /\\k</.test(src)) return ' (backreferences are not supported by RE2)';
  if (/[*+?}]\+/.test(src)) return ' (possessive quantifiers are not supported by RE2)';
  return '';
}

/** Text of the first match in `buf`, truncated for symbol options (≤ 40 chars). */
export function matchText(re: RE2, buf: Buffer): string | undefined {
  re.lastIndex = 0;
  const m = re.exec(buf);
  if (!m) return undefined;
  return shorten(m[0].toString('utf8'));
}

export function shorten(s: string, n = 40): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}
