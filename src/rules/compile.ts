/**
 * RuleSpecs → an immutable RuleSet: every regex compiled once with RE2, every meta expression
 * parsed and resolved, metas ordered so dependencies run first. All problems are collected (with
 * file:line and rule id) instead of stopping at the first.
 */
import type RE2 from 're2';
import { compileRe2, matchText, shorten } from './regex.js';
import { compileExpr, exprIds, parseExpr, ExprError, type Expr } from './expr.js';
import { EVALS } from './evals.js';
import { lastExtension } from '../message/index.js';
import type { CompiledRule, RegexSpec, RuleInput, RuleProblem, RuleSpec, TestFn, TestSpec } from './types.js';

export interface CompileResult {
  readonly rules: CompiledRule[];
  readonly problems: RuleProblem[];
}

export function compileRules(specs: readonly RuleSpec[]): CompileResult {
  const problems: RuleProblem[] = [];
  const seen = new Map<string, RuleSpec>();
  const unique: RuleSpec[] = [];
  for (const s of specs) {
    const prev = seen.get(s.id);
    if (prev) {
      problems.push({ file: s.pos.file, line: s.pos.line, rule: s.id, message: `duplicate rule id (first defined at ${prev.pos.file}:${prev.pos.line})` });
      continue;
    }
    seen.set(s.id, s);
    unique.push(s);
  }

  const plain: CompiledRule[] = [];
  const metas: { spec: RuleSpec; expr: Expr; deps: Set<string> }[] = [];
  for (const s of unique) {
    const bad = (message: string) => problems.push({ file: s.pos.file, line: s.testLine, rule: s.id, message });
    if (s.test.kind === 'meta') {
      try {
        const expr = parseExpr(s.test.expr);
        const deps = exprIds(expr);
        for (const d of deps) if (!seen.has(d)) bad(`meta refers to unknown rule ${d}`);
        metas.push({ spec: s, expr, deps });
      } catch (e) {
        if (e instanceof ExprError) bad(`meta: ${e.message}`);
        else throw e;
      }
      continue;
    }
    const test = buildTest(s.test, bad);
    if (test) plain.push(base(s, { test }));
  }

  // Order metas so each comes after the metas it uses; a cycle is an error (Kahn's algorithm).
  const metaIds = new Set(metas.map((m) => m.spec.id));
  const ordered: typeof metas = [];
  const done = new Set<string>();
  let progress = true;
  while (progress && ordered.length < metas.length) {
    progress = false;
    for (const m of metas) {
      if (done.has(m.spec.id)) continue;
      if ([...m.deps].every((d) => !metaIds.has(d) || done.has(d))) {
        ordered.push(m);
        done.add(m.spec.id);
        progress = true;
      }
    }
  }
  for (const m of metas) {
    if (!done.has(m.spec.id)) problems.push({ file: m.spec.pos.file, line: m.spec.testLine, rule: m.spec.id, message: 'meta rules refer to each other in a cycle' });
  }

  const rules: CompiledRule[] = [...plain];
  const index = new Map(plain.map((r, i) => [r.id, i]));
  for (const m of ordered) {
    // A dependency that is unknown or failed to compile was reported already: drop the meta.
    if ([...m.deps].some((d) => !index.has(d))) continue;
    const f = compileExpr(m.expr, (id) => index.get(id)!);
    index.set(m.spec.id, rules.length);
    rules.push(base(m.spec, { meta: (h) => f(h) !== 0 }));
  }
  return { rules, problems };
}

function base(s: RuleSpec, t: Pick<CompiledRule, 'test' | 'meta'>): CompiledRule {
  return {
    id: s.id,
    description: s.description,
    score: s.id.startsWith('__') ? 0 : s.score,
    category: s.category,
    kind: s.test.kind,
    pos: s.pos,
    source: s.source,
    reported: !s.id.startsWith('__'),
    ...t,
  };
}

function re(spec: RegexSpec | undefined, bad: (m: string) => void): RE2 | undefined | null {
  if (!spec) return undefined;
  const r = compileRe2(spec);
  if (typeof r === 'string') {
    bad(r);
    return null;
  }
  return r;
}

const EMPTY = Buffer.alloc(0);

export function buildTest(t: Exclude<TestSpec, { kind: 'meta' }>, bad: (m: string) => void): TestFn | undefined {
  switch (t.kind) {
    case 'body':
    case 'rawbody':
    case 'full': {
      const r = re(t.regex, bad);
      if (!r) return undefined;
      const kind = t.kind;
      return (input) => {
        const buf = input.targets[kind]();
        if (!r.test(buf)) return undefined;
        const m = matchText(r, buf);
        return m !== undefined ? [m] : [];
      };
    }
    case 'header': {
      const r = re(t.regex, bad);
      if (r === null) return undefined;
      const all = t.name.toUpperCase() === 'ALL';
      const lname = t.name.toLowerCase();
      const { part, exists, negate, ifUnset } = t;
      if (exists !== undefined) {
        if (all) {
          bad('header ALL cannot take `exists`');
          return undefined;
        }
        return ({ msg }) => ((msg.header(lname).length > 0) === exists ? [] : undefined);
      }
      const rr = r!;
      const key = all ? 'all' : lname;
      const unset = ifUnset !== undefined ? Buffer.from(ifUnset, 'utf8') : EMPTY;
      return ({ targets }) => {
        const value = targets.header(key, part) ?? unset;
        if (!rr.test(value)) return negate ? [] : undefined;
        if (negate) return undefined;
        const m = matchText(rr, value);
        return m !== undefined ? [m] : [];
      };
    }
    case 'uri': {
      const r = re(t.regex, bad);
      if (r === null) return undefined;
      const { target, ipLiteral, punycode } = t;
      return ({ msg, targets }) => {
        const bufs = r ? targets.uris(target) : undefined;
        for (let i = 0; i < msg.uris.length; i++) {
          const u = msg.uris[i]!;
          if (ipLiteral && !u.ipLiteral) continue;
          if (punycode && !u.punycode) continue;
          if (r) {
            const v = bufs![i]!;
            if (v.length === 0 || !r.test(v)) continue;
          }
          return [shorten(u.url, 80)];
        }
        return undefined;
      };
    }
    case 'attachment': {
      const name = re(t.name, bad);
      const ct = re(t.contentType, bad);
      const entry = re(t.archiveEntry, bad);
      if (name === null || ct === null || entry === null) return undefined;
      const exts = t.extensions ? new Set(t.extensions) : undefined;
      const sniffed = t.sniffed ? new Set(t.sniffed) : undefined;
      const arcExts = t.archiveExtensions ? new Set(t.archiveExtensions) : undefined;
      const { doubleExtension, typeMismatch } = t;
      return ({ msg }) => {
        for (const a of msg.attachments) {
          const fn = a.filename;
          if (name && !name.test(fn)) continue;
          if (exts && !exts.has(lastExtension(fn))) continue;
          if (doubleExtension && !hasDoubleExtension(fn)) continue;
          if (ct && !ct.test(a.contentType)) continue;
          if (sniffed && !(a.sniffedType && sniffed.has(a.sniffedType))) continue;
          if (typeMismatch && !a.typeMismatch) continue;
          if (entry || arcExts) {
            const e = a.archiveEntries.find((n) => (!entry || entry.test(n)) && (!arcExts || arcExts.has(lastExtension(n))));
            if (e === undefined) continue;
            return [shorten(`${fn || '(unnamed)'}: ${e}`, 80)];
          }
          return [shorten(fn || a.contentType, 80)];
        }
        return undefined;
      };
    }
    case 'size': {
      const min = t.min ?? 0;
      const max = t.max ?? Infinity;
      return ({ msg }) => (msg.size >= min && msg.size <= max ? [String(msg.size)] : undefined);
    }
    case 'eval': {
      const e = EVALS[t.name];
      if (!e) {
        bad(`unknown eval test "${t.name}" (known: ${Object.keys(EVALS).join(', ')})`);
        return undefined;
      }
      const args: Record<string, number> = { ...(e.args ?? {}) };
      for (const [k, v] of Object.entries(t.args)) {
        if (!(k in args)) bad(`eval ${t.name} takes no argument "${k}"${e.args ? ` (takes: ${Object.keys(e.args).join(', ')})` : ''}`);
        else if (typeof v !== 'number' || !Number.isFinite(v)) bad(`eval ${t.name}: argument "${k}" must be a number`);
        else args[k] = v;
      }
      const frozen = Object.freeze(args);
      return (input: RuleInput) => e.run(input, frozen);
    }
  }
}

/**
 * `name.pdf.exe`, `scan.doc   .scr`: an executable-looking last extension behind a decoy one
 * (2–5 alphanumerics), the classic way to show a harmless type in mail clients that hide extensions.
 */
export function hasDoubleExtension(filename: string): boolean {
  return /\.[a-z0-9]{2,5}[\s._-]*\.[a-z0-9]{2,5}\s*$/i.test(filename);
}
