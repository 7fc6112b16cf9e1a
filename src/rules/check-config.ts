/**
 * `spamgate check-config` validator for rules: loads the YAML rule files and the SpamAssassin
 * import exactly as the daemon would and adds to the report
 *   rules:        { loaded, files, errors }
 *   spamassassin: { loaded, skipped, skippedReasons: { reason: count } }
 * with every rule error in `problems` as file:line. Registered from cli/main.ts (after
 * check-config.ts is loaded, avoiding an import cycle).
 */
import { addConfigValidator, type ConfigValidator } from '../cli/check-config.js';
import { loadRuleSet } from './loader.js';

export const rulesValidator: ConfigValidator = (loaded, report) => {
  const rc = loaded.config.rules;
  const r = loadRuleSet({ paths: rc.paths, spamassassin: rc.spamassassin, baseDir: loaded.baseDir });
  if (!r.ok) {
    report.rules = { loaded: 0, files: [], errors: r.problems.length };
    for (const p of r.problems) {
      report.problems.push({ file: p.file, line: p.line, column: p.column ?? 0, key: p.rule ?? '', message: p.message });
    }
    return;
  }
  const s = r.ruleSet.stats;
  report.rules = { loaded: s.rules.loaded, files: s.rules.files, errors: 0 };
  report.spamassassin = {
    files: s.spamassassin.files.length,
    loaded: s.spamassassin.loaded,
    skipped: s.spamassassin.skipped,
    skippedReasons: s.spamassassin.skippedReasons,
  };
};

let registered = false;
/** Idempotent registration. */
export function registerRulesValidator(): void {
  if (registered) return;
  registered = true;
  addConfigValidator(rulesValidator);
}
registerRulesValidator();
