/**
 * Load the whole rule set: our YAML rule files (`rules.paths`: files or folders of `*.yaml|*.yml`,
 * loaded in name order, relative to the config's directory) plus the optional SpamAssassin import
 * (`rules.spamassassin`). Returns either a complete RuleSet or every problem with file:line —
 * never a partial set (a reload that fails keeps the previous set; see holder.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseRuleFile } from './yaml-file.js';
import { compileRules } from './compile.js';
import { importSpamAssassin } from './spamassassin.js';
import type { RuleProblem, RuleSet, RuleSpec, SkippedRule } from './types.js';

export interface RuleSources {
  /** Files or folders of YAML rule files. */
  readonly paths: readonly string[];
  /** SpamAssassin .cf files or folders. */
  readonly spamassassin: readonly string[];
  /** Relative paths resolve against this (the config file's directory). */
  readonly baseDir: string;
}

export type LoadResult = { readonly ok: true; readonly ruleSet: RuleSet; readonly problems: readonly [] } | { readonly ok: false; readonly problems: readonly RuleProblem[] };

/** YAML rule files named by `paths`, in name order within each folder. */
export function listRuleFiles(paths: readonly string[], baseDir: string): { files: string[]; problems: RuleProblem[] } {
  const files: string[] = [];
  const problems: RuleProblem[] = [];
  for (const p of paths) {
    const abs = path.resolve(baseDir, p);
    try {
      const st = fs.statSync(abs);
      if (st.isDirectory()) {
        for (const f of fs.readdirSync(abs).sort()) if (/\.ya?ml$/.test(f)) files.push(path.join(abs, f));
      } else files.push(abs);
    } catch (e) {
      problems.push({ file: abs, line: 0, message: `cannot read rules: ${(e as Error).message}` });
    }
  }
  return { files, problems };
}

export function loadRuleSet(src: RuleSources): LoadResult {
  const { files, problems } = listRuleFiles(src.paths, src.baseDir);
  const specs: RuleSpec[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (e) {
      problems.push({ file: f, line: 0, message: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const r = parseRuleFile(text, f);
    problems.push(...r.problems);
    specs.push(...r.rules);
  }

  const sa = src.spamassassin.length
    ? importSpamAssassin(src.spamassassin, src.baseDir)
    : { rules: [], skipped: [], skippedReasons: {}, files: [], problems: [] };
  problems.push(...sa.problems);
  const skipped: SkippedRule[] = [...sa.skipped];
  const skippedReasons: Record<string, number> = { ...sa.skippedReasons };
  const localIds = new Set(specs.map((s) => s.id));
  for (const s of sa.rules) {
    if (localIds.has(s.id)) {
      skipped.push({ id: s.id, file: s.pos.file, line: s.pos.line, reason: 'overridden by a local rule with the same id' });
      skippedReasons['overridden by local rule'] = (skippedReasons['overridden by local rule'] ?? 0) + 1;
    } else specs.push(s);
  }

  const compiled = compileRules(specs);
  // A SpamAssassin rule that still fails to compile is skipped, not fatal: the admin did not write it.
  const saIds = new Set(sa.rules.map((r) => r.id));
  for (const p of compiled.problems) {
    if (p.rule && saIds.has(p.rule) && !localIds.has(p.rule)) {
      skipped.push({ id: p.rule, file: p.file, line: p.line, reason: p.message });
      skippedReasons['RE2 cannot compile'] = (skippedReasons['RE2 cannot compile'] ?? 0) + 1;
    } else problems.push(p);
  }
  if (problems.length) return { ok: false, problems };

  const rules = compiled.rules;
  const ruleSet: RuleSet = Object.freeze({
    rules,
    byId: new Map(rules.map((r, i) => [r.id, i])),
    skipped,
    files: [...files, ...sa.files],
    stats: {
      rules: { loaded: rules.filter((r) => r.source === 'yaml').length, files },
      spamassassin: { files: sa.files, loaded: rules.filter((r) => r.source === 'spamassassin').length, skipped: skipped.length, skippedReasons },
    },
  });
  return { ok: true, ruleSet, problems: [] };
}

/** An empty set (before the first load, or with no rule files). */
export function emptyRuleSet(): RuleSet {
  return Object.freeze({
    rules: [],
    byId: new Map(),
    skipped: [],
    files: [],
    stats: { rules: { loaded: 0, files: [] }, spamassassin: { files: [], loaded: 0, skipped: 0, skippedReasons: {} } },
  });
}
