/**
 * The `rules` check (stage data): evaluates the admin's rule files (rules/*.yaml and the optional
 * SpamAssassin import) against the parsed message and emits one symbol per rule that hit.
 *
 * Its `symbols` is a getter over the active rule set, so the symbol list follows rule reloads
 * (the registry re-reads it via `rebuildSymbols()`); `__` sub-rules are never declared or emitted.
 */
import type { Check, CheckContext, SymbolDef } from '../../core/types.js';
import type { CheckFactory, CheckServices } from '../../core/services.js';
import { parseMessage, setParseLimits } from '../../message/index.js';
import { RuleSetHolder } from '../../rules/holder.js';
import { evaluateRules } from '../../rules/evaluate.js';
import { formatRuleProblem, type RuleSet } from '../../rules/types.js';

export const RULES_CHECK = 'rules';

const symbolCache = new WeakMap<RuleSet, readonly SymbolDef[]>();

/** The SymbolDefs of a rule set (reported rules only), cached per set. */
export function ruleSymbols(set: RuleSet): readonly SymbolDef[] {
  let defs = symbolCache.get(set);
  if (!defs) {
    defs = Object.freeze(
      set.rules
        .filter((r) => r.reported)
        .map((r) => Object.freeze({ name: r.id, score: r.score, description: r.description, category: r.category })),
    );
    symbolCache.set(set, defs);
  }
  return defs;
}

/** Build the check over an existing holder (tests, or a holder shared with serve's SIGHUP handler). */
export function createRulesCheck(services: Pick<CheckServices, 'config'>, holder: RuleSetHolder): Check {
  const slice = services.config.checks.rules;
  return {
    name: RULES_CHECK,
    stage: 'data',
    get symbols() {
      return ruleSymbols(holder.current());
    },
    timeoutMs: slice?.timeoutMs ?? 5_000,
    async run(ctx: CheckContext) {
      const raw = ctx.session.message;
      if (!raw) return;
      // Read the set once: a reload during this message does not mix two rule sets.
      const set = holder.current();
      if (set.rules.length === 0) return;
      const msg = await parseMessage(raw);
      const { hits, errors } = evaluateRules(set, msg, ctx.session.envelope);
      for (const e of errors) ctx.log.warn({ rule: e.rule, err: e.error }, 'rule test failed');
      for (const h of hits) ctx.emit(h.rule.id, h.options);
    },
  };
}

const holders = new WeakMap<CheckServices, RuleSetHolder>();

/**
 * The holder the factory built for these services, so `serve` can call `reload()` on SIGHUP and
 * `registry.rebuildSymbols()` after it (via `holder.onChange`).
 */
export function rulesHolderFor(services: CheckServices): RuleSetHolder | undefined {
  return holders.get(services);
}

/**
 * Factory: loads `config.rules` (relative to the config's directory) once; rule errors fail boot
 * with every problem as file:line. Starts watching the rule files when `rules.watch` is on.
 */
export const rulesCheck: CheckFactory = (services) => {
  const slice = services.config.checks.rules;
  if (slice && slice.enabled === false) return undefined;
  const rc = services.config.rules;
  setParseLimits({ bodyScanBytes: rc.bodyScanBytes });
  const holder = new RuleSetHolder(
    { paths: rc.paths, spamassassin: rc.spamassassin, baseDir: services.baseDir },
    services.log.child({ check: RULES_CHECK }),
    services.metrics,
  );
  const problems = holder.loadInitial();
  if (problems.length) {
    throw new Error(`rule files have errors:\n${problems.map(formatRuleProblem).join('\n')}`);
  }
  if (rc.watch) holder.watch();
  holders.set(services, holder);
  return createRulesCheck(services, holder);
};

/** Same factory under the name used in the brief. */
export const rulesCheckFactory = rulesCheck;
