/**
 * Perl regex (as written in SpamAssassin .cf files) → RE2 pattern, or a reason why not.
 *
 * We translate only what has an exact RE2 equivalent (`\Z`, `\h`, `\e`, `(?#…)`, the `x` flag) and
 * refuse constructs RE2 cannot run in linear time or does not have (lookaround, backreferences,
 * possessive quantifiers, atomic groups, `\G`, recursion, conditionals, code blocks). A refused
 * rule is skipped with the reason; it is never run with a backtracking engine.
 */

export type PerlRegexResult = { readonly source: string; readonly flags: string } | { readonly skip: string; readonly category: string };

/**
 * Split `/re/flags`, `m{re}flags`, `m!re!flags` … from the start of `text`. Returns the pattern,
 * flags and the rest of the line (e.g. `[if-unset: …]`), or undefined if malformed.
 */
export function splitPerlRegex(text: string): { pattern: string; flags: string; rest: string } | undefined {
  const t = text.trimStart();
  let i = 0;
  let open: string;
  if (t[0] === '/') open = '/';
  else if (t[0] === 'm' && t[1] && /[^\w\s]/.test(t[1])) {
    open = t[1];
    i = 1;
  } else return undefined;
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']', '<': '>' };
  const close = pairs[open] ?? open;
  let depth = 0;
  let j = i + 1;
  for (; j < t.length; j++) {
    const c = t[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (close !== open && c === open) depth++;
    else if (c === close) {
      if (depth === 0) break;
      depth--;
    }
  }
  if (j >= t.length) return undefined;
  let pattern = t.slice(i + 1, j);
  // An escaped delimiter is just the character in the pattern.
  if (open === '/' ) pattern = pattern.replace(/\\\//g, '/');
  const m = /^[a-z]*/.exec(t.slice(j + 1))!;
  return { pattern, flags: m[0], rest: t.slice(j + 1 + m[0].length).trim() };
}

/** Translate one pattern with its Perl flags. */
export function perlToRe2(pattern: string, perlFlags: string): PerlRegexResult {
  for (const f of perlFlags) {
    if (!'imsxog'.includes(f)) return { skip: `unsupported regex flag "${f}"`, category: 'perl-only construct' };
  }
  const extended = perlFlags.includes('x');
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) return { skip: 'pattern ends with a backslash', category: 'perl-only construct' };
      if (/[1-9]/.test(n) && !inClass) return { skip: `backreference \\${n}`, category: 'backreference' };
      if (n === 'g' || n === 'k') return { skip: `backreference \\${n}`, category: 'backreference' };
      if (n === 'G') return { skip: '\\G anchor', category: 'perl-only construct' };
      if (n === 'K') return { skip: '\\K (keep out)', category: 'perl-only construct' };
      if (n === 'R' || n === 'X' || n === 'N' || n === 'C') return { skip: `\\${n} escape`, category: 'perl-only construct' };
      if (n === 'Z') {
        out += inClass ? '' : '(?:\\n?\\z)';
        i++;
        continue;
      }
      if (n === 'h') {
        out += inClass ? '\\t ' : '[\\t ]';
        i++;
        continue;
      }
      if (n === 'H') {
        if (inClass) return { skip: '\\H inside a class', category: 'perl-only construct' };
        out += '[^\\t ]';
        i++;
        continue;
      }
      if (n === 'e') {
        out += '\\x1b';
        i++;
        continue;
      }
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']' && !classJustOpened(out)) inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // `[]...]` and `[^]...]`: a leading ] is literal.
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 5);
      if (/^(=|!|<=|<!)/.test(rest)) return { skip: 'lookaround', category: 'lookaround' };
      if (rest.startsWith('>')) return { skip: 'atomic group (?>…)', category: 'possessive/atomic' };
      if (rest.startsWith('#')) {
        const end = pattern.indexOf(')', i);
        if (end < 0) return { skip: 'unterminated (?#', category: 'perl-only construct' };
        i = end;
        continue;
      }
      if (/^(\(|R|\d|&|P>|\{|\?\{|\|)/.test(rest)) return { skip: 'recursion, conditional or code block', category: 'perl-only construct' };
      if (/^<[A-Za-z]/.test(rest) || rest.startsWith("'")) {
        // Named group (?<name>…) → RE2's (?P<name>…).
        out += '(?P';
        i += 1;
        continue;
      }
    }
    if ((c === '+' ) && /[*+?}]$/.test(out) && !/\\[*+?}]$/.test(out) && !/\[[^\]]*$/.test(out)) {
      return { skip: 'possessive quantifier', category: 'possessive/atomic' };
    }
    if (extended) {
      if (/\s/.test(c)) continue;
      if (c === '#') {
        const nl = pattern.indexOf('\n', i);
        if (nl < 0) break;
        i = nl;
        continue;
      }
    }
    out += c;
  }
  const flags = [...new Set(perlFlags.replace(/[xog]/g, ''))].join('');
  return { source: out, flags };
}

function classJustOpened(out: string): boolean {
  return out.endsWith('[') || out.endsWith('[^');
}
