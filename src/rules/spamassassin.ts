/**
 * SpamAssassin .cf import: reads `header`, `body`, `rawbody`, `uri`, `full`, `meta`, `score`,
 * `describe` and `tflags` lines from the admin's own SpamAssassin rule files (we never ship them)
 * and turns what we can run faithfully into RuleSpecs. Everything else is skipped with a reason:
 * eval: rules (Perl plugins), patterns RE2 cannot run, rule types we do not have (mimeheader,
 * askdns …), contents of `ifplugin`/`if` blocks for plugins we do not have, rules disabled with
 * score 0, and metas whose sub-rules were skipped.
 *
 * File syntax (Mail::SpamAssassin::Conf): one directive per line; an unescaped `#` starts a
 * comment and `\#` is a literal `#`; later definitions of a rule replace earlier ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { perlToRe2, splitPerlRegex } from './perl-regex.js';
import { compileRe2 } from './regex.js';
import { exprIds, parseExpr, compileExpr, ExprError } from './expr.js';
import type { HeaderPart, RuleSpec, SkippedRule, TestSpec } from './types.js';

const RULE_TYPES = new Set(['header', 'body', 'rawbody', 'uri', 'full', 'meta']);
/** Directives that define rules we cannot run (plugins, DNS, MIME part headers). */
const FOREIGN_RULE_TYPES = new Set(['mimeheader', 'uri_detail', 'askdns', 'urirhssub', 'urirhsbl', 'uridnsbl', 'uridnssub', 'uri_block_cc', 'uri_block_cont', 'uri_block_cidr']);
/** Pseudo-headers SpamAssassin computes from its own relay analysis; we have no equivalent. */
const PSEUDO_HEADERS = /^(X-Spam-Relays-|ALL-TRUSTED|ALL-UNTRUSTED|ALL-INTERNAL|ALL-EXTERNAL|X-Spam-|ToCc$|EnvelopeFrom$|MESSAGEID$|X-Original-To$|X-Envelope-)/i;
/** `if can(...)` features whose rule semantics we follow. */
const KNOWN_FEATURES = /^Mail::SpamAssassin::Conf::(feature_bug6558_free|perl_min_version_\d+|feature_welcomelist_blocklist)$/;
/** The SpamAssassin rule-language version we emulate for `if (version >= N)`. */
const SA_VERSION = 4.000001;

interface Def {
  name: string;
  type: string;
  value: string;
  file: string;
  line: number;
}

export interface SaImport {
  readonly rules: RuleSpec[];
  readonly skipped: SkippedRule[];
  /** reason category → count */
  readonly skippedReasons: Record<string, number>;
  readonly files: string[];
  /** Unreadable files or folders (file:0 problems). */
  readonly problems: { file: string; line: number; message: string }[];
}

/** List `.cf` files: each path is a file or a folder (its `*.cf`, name order). */
export function listCfFiles(paths: readonly string[], baseDir: string): { files: string[]; problems: SaImport['problems'] } {
  const files: string[] = [];
  const problems: SaImport['problems'] = [];
  for (const p of paths) {
    const abs = path.resolve(baseDir, p);
    try {
      const st = fs.statSync(abs);
      if (st.isDirectory()) {
        for (const f of fs.readdirSync(abs).sort()) if (f.endsWith('.cf')) files.push(path.join(abs, f));
      } else files.push(abs);
    } catch (e) {
      problems.push({ file: abs, line: 0, message: `cannot read SpamAssassin rules: ${(e as Error).message}` });
    }
  }
  return { files, problems };
}

export function importSpamAssassin(paths: readonly string[], baseDir: string): SaImport {
  const { files, problems } = listCfFiles(paths, baseDir);
  const texts = files.flatMap((f) => {
    try {
      return [{ file: f, text: fs.readFileSync(f, 'latin1') }];
    } catch (e) {
      problems.push({ file: f, line: 0, message: `cannot read: ${(e as Error).message}` });
      return [];
    }
  });
  const r = importCfTexts(texts);
  return { ...r, files, problems };
}

/** The pure part: parse .cf texts (in order) into rules and skips. */
export function importCfTexts(inputs: readonly { file: string; text: string }[]): Omit<SaImport, 'files' | 'problems'> {
  const defs = new Map<string, Def>();
  const inactive = new Map<string, SkippedRule & { category: string }>();
  const scores = new Map<string, number>();
  const describes = new Map<string, string>();
  const replaced = new Set<string>();

  for (const { file, text } of inputs) {
    const cond: { active: boolean; why: string }[] = [];
    const lines = text.split(/\r?\n/);
    for (let ln = 0; ln < lines.length; ln++) {
      const line = stripComment(lines[ln]!).trim();
      if (!line) continue;
      const m = /^(\S+)\s*(.*)$/.exec(line)!;
      const dir = m[1]!.toLowerCase();
      const rest = m[2]!.trim();
      if (dir === 'ifplugin') {
        cond.push({ active: false, why: `ifplugin ${rest}` });
        continue;
      }
      if (dir === 'if') {
        const ok = evalIf(rest);
        cond.push({ active: ok, why: `if ${rest}` });
        continue;
      }
      if (dir === 'else') {
        const top = cond[cond.length - 1];
        if (top) {
          top.active = !top.active;
          top.why = `else of ${top.why}`;
        }
        continue;
      }
      if (dir === 'endif') {
        cond.pop();
        continue;
      }
      const blocked = cond.find((c) => !c.active);
      const nm = /^(\S+)\s*(.*)$/.exec(rest);
      const name = nm?.[1] ?? '';
      const value = nm?.[2]?.trim() ?? '';
      if (RULE_TYPES.has(dir) || FOREIGN_RULE_TYPES.has(dir)) {
        if (!name) continue;
        if (blocked) {
          if (!defs.has(name)) inactive.set(name, { id: name, file, line: ln + 1, reason: `inside ${blocked.why}`, category: 'ifplugin/if block' });
          continue;
        }
        inactive.delete(name);
        defs.set(name, { name, type: dir, value, file, line: ln + 1 });
      } else if (blocked) {
        continue;
      } else if (dir === 'score' && name) {
        const nums = value.split(/\s+/).filter(Boolean).map(Number);
        // SA gives 1 or 4 scores (sets: no net/no bayes, net, bayes, net+bayes): take the last.
        const s = nums.length >= 4 ? nums[3]! : nums[0];
        if (s !== undefined && Number.isFinite(s)) scores.set(name, s);
      } else if (dir === 'describe' && name) {
        describes.set(name, value);
      } else if (dir === 'replace_rules') {
        for (const n of rest.split(/\s+/)) if (n) replaced.add(n);
      }
      // tflags (net, nice, learn, multiple, maxhits …) and everything else do not change what a
      // rule matches: ignored.
    }
  }

  const skipped: (SkippedRule & { category: string })[] = [...inactive.values()];
  const specs = new Map<string, RuleSpec>();
  const metas: { def: Def; deps: Set<string> }[] = [];
  const skip = (d: Def, reason: string, category: string) => skipped.push({ id: d.name, file: d.file, line: d.line, reason, category });

  for (const d of defs.values()) {
    const isSub = d.name.startsWith('__');
    const score = isSub ? 0 : scores.get(d.name) ?? 1;
    if (!isSub && score === 0) {
      skip(d, 'disabled (score 0)', 'disabled (score 0)');
      continue;
    }
    if (!isSub && !/^[A-Z][A-Z0-9_]*$/.test(d.name)) {
      skip(d, 'name is not UPPER_SNAKE', 'bad name');
      continue;
    }
    if (FOREIGN_RULE_TYPES.has(d.type)) {
      skip(d, `rule type ${d.type} is not supported`, 'unsupported rule type');
      continue;
    }
    if (/^eval:/.test(d.value) || /^\S+\s+eval:/.test(d.value) && d.type === 'header') {
      skip(d, `eval rule (${shortVal(d.value)}) needs a Perl plugin`, 'eval');
      continue;
    }
    if (replaced.has(d.name)) {
      skip(d, 'uses replace_tags (ReplaceTags plugin)', 'ifplugin/if block');
      continue;
    }
    if (d.type === 'meta') {
      try {
        metas.push({ def: d, deps: exprIds(parseExpr(d.value)) });
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        skip(d, `meta expression: ${e.message}`, 'perl-only construct');
      }
      continue;
    }
    const test = translate(d);
    if ('skip' in test) {
      skip(d, test.skip, test.category);
      continue;
    }
    specs.set(d.name, {
      id: d.name,
      description: describes.get(d.name) ?? d.name,
      score,
      category: 'spamassassin',
      test: test.test,
      pos: { file: d.file, line: d.line },
      testLine: d.line,
      source: 'spamassassin',
    });
  }

  // Metas: keep one only when every rule it mentions was kept (fixed point over meta chains).
  let changed = true;
  const pending = new Map(metas.map((m) => [m.def.name, m]));
  while (changed) {
    changed = false;
    for (const [name, m] of pending) {
      const missing = [...m.deps].find((dep) => !specs.has(dep) && !pending.has(dep));
      if (missing !== undefined) {
        skip(m.def, `meta depends on skipped or unknown rule ${missing}`, 'meta dependency skipped');
        pending.delete(name);
        changed = true;
      }
    }
  }
  // Cycles among the remaining metas: skip them too (compile would refuse the whole set).
  const resolved = new Set(specs.keys());
  let progress = true;
  while (progress) {
    progress = false;
    for (const [name, m] of pending) {
      if ([...m.deps].every((d) => resolved.has(d))) {
        resolved.add(name);
        pending.delete(name);
        progress = true;
        const isSub = name.startsWith('__');
        specs.set(name, {
          id: name,
          description: describes.get(name) ?? name,
          score: isSub ? 0 : scores.get(name) ?? 1,
          category: 'spamassassin',
          test: { kind: 'meta', expr: m.def.value },
          pos: { file: m.def.file, line: m.def.line },
          testLine: m.def.line,
          source: 'spamassassin',
        });
      }
    }
  }
  for (const m of pending.values()) skip(m.def, 'meta rules refer to each other in a cycle', 'meta dependency skipped');

  const skippedReasons: Record<string, number> = {};
  for (const s of skipped) skippedReasons[s.category] = (skippedReasons[s.category] ?? 0) + 1;
  return {
    rules: [...specs.values()],
    skipped: skipped.map(({ id, file, line, reason }) => ({ id, file, line, reason })),
    skippedReasons,
  };
}

function shortVal(v: string): string {
  return v.length > 40 ? v.slice(0, 39) + '…' : v;
}

/** Remove an unescaped `#` comment and unescape `\#` (Mail::SpamAssassin::Conf::Parser). */
function stripComment(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === '#') {
      out += '#';
      i++;
    } else if (c === '#') break;
    else out += c;
  }
  return out;
}

/** Evaluate an `if` condition: version comparisons, plugin() (none loaded), can() (known features). */
export function evalIf(cond: string): boolean {
  const s = cond
    .replace(/plugin\s*\(\s*[\w:]+\s*\)/g, '0')
    .replace(/can\s*\(\s*([\w:]+)\s*\)/g, (_m, f: string) => (KNOWN_FEATURES.test(f) ? '1' : '0'))
    .replace(/\bversion\b/g, String(SA_VERSION));
  try {
    return compileExpr(parseExpr(s), () => 0)(new Uint8Array(0)) !== 0;
  } catch {
    return false;
  }
}

type Translated = { test: TestSpec } | { skip: string; category: string };

function regexFrom(text: string): { source: string; flags: string; rest: string } | { skip: string; category: string } {
  const split = splitPerlRegex(text);
  if (!split) return { skip: `cannot read regex ${shortVal(text)}`, category: 'perl-only construct' };
  const t = perlToRe2(split.pattern, split.flags);
  if ('skip' in t) return t;
  const c = compileRe2(t);
  if (typeof c === 'string') return { skip: c, category: 'RE2 cannot compile' };
  return { ...t, rest: split.rest };
}

function translate(d: Def): Translated {
  if (d.type === 'header') {
    const v = d.value;
    const ex = /^exists:\s*(\S+)$/.exec(v);
    if (ex) {
      if (PSEUDO_HEADERS.test(ex[1]!)) return { skip: `pseudo-header ${ex[1]}`, category: 'unsupported header' };
      return { test: { kind: 'header', name: ex[1]!, part: 'decoded', exists: true } };
    }
    const hm = /^([\w.-]+)(?::(raw|addr|name|host|domain|ip|revip|first|last))?\s*(=~|!~)\s*(.*)$/.exec(v);
    if (!hm) return { skip: `cannot read header test ${shortVal(v)}`, category: 'perl-only construct' };
    const [, hname, mod, op, rest] = hm;
    if (hname!.toUpperCase() !== 'ALL' && PSEUDO_HEADERS.test(hname!)) return { skip: `pseudo-header ${hname}`, category: 'unsupported header' };
    if (mod && !['raw', 'addr', 'name'].includes(mod)) return { skip: `header modifier :${mod}`, category: 'unsupported header' };
    const r = regexFrom(rest!);
    if ('skip' in r) return r;
    const unset = /^\[\s*if-unset:\s*(.*?)\s*\]$/.exec(r.rest);
    if (r.rest && !unset) return { skip: `trailing text after regex: ${shortVal(r.rest)}`, category: 'perl-only construct' };
    return {
      test: {
        kind: 'header',
        name: hname!.toUpperCase() === 'ALL' ? 'ALL' : hname!,
        part: (mod as HeaderPart | undefined) ?? 'decoded',
        regex: { source: r.source, flags: r.flags },
        ...(op === '!~' ? { negate: true } : {}),
        ...(unset ? { ifUnset: unset[1]! } : {}),
      },
    };
  }
  const r = regexFrom(d.value);
  if ('skip' in r) return r;
  if (r.rest) return { skip: `trailing text after regex: ${shortVal(r.rest)}`, category: 'perl-only construct' };
  const regex = { source: r.source, flags: r.flags };
  switch (d.type) {
    case 'body':
    case 'rawbody':
    case 'full':
      return { test: { kind: d.type, regex } };
    case 'uri':
      return { test: { kind: 'uri', target: 'url', regex } };
  }
  return { skip: `rule type ${d.type}`, category: 'unsupported rule type' };
}
