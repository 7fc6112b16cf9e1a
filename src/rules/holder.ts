/**
 * The active rule set, swapped atomically on reload (SIGHUP, or a change of the rule files when
 * watching). A message always runs against one complete set: evaluation reads `current()` once.
 * A failed reload keeps the previous set and says so (ARCHITECTURE "Failure policy").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { emptyRuleSet, loadRuleSet, type RuleSources } from './loader.js';
import { formatRuleProblem, type RuleProblem, type RuleSet } from './types.js';

export interface ReloadResult {
  readonly ok: boolean;
  readonly errors: readonly string[];
  /** True when the previous rule set stayed active because the new one had errors. */
  readonly keptPrevious: boolean;
}

export class RuleSetHolder {
  private set: RuleSet = emptyRuleSet();
  private watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;
  private listeners: ((set: RuleSet) => void)[] = [];
  private validators: ((set: RuleSet) => readonly string[])[] = [];

  constructor(
    private readonly sources: RuleSources,
    private readonly log?: Logger,
    private readonly metrics?: Metrics,
    /** Debounce for file change events (editors write several events per save). */
    private readonly debounceMs = 300,
  ) {}

  /** The active rule set. Read once per message. */
  current(): RuleSet {
    return this.set;
  }

  /**
   * Checked before a reloaded set goes live (e.g. the check registry refusing a symbol another
   * check declares, or a `scores:` override the new set no longer defines). Any problem keeps the
   * previous set, so rules and the symbol table never disagree.
   */
  addValidator(fn: (set: RuleSet) => readonly string[]): void {
    this.validators.push(fn);
  }

  /** Called after every successful swap (e.g. to refresh symbol listings). */
  onChange(fn: (set: RuleSet) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Load the initial set synchronously; returns the problems (empty when loaded). At boot the
   * caller exits non-zero on problems (ARCHITECTURE habit 5).
   */
  loadInitial(): readonly RuleProblem[] {
    const r = loadRuleSet(this.sources);
    if (!r.ok) return r.problems;
    this.swap(r.ruleSet);
    return [];
  }

  /** Reload from disk; a bad rule set leaves the current one active. Concurrent calls share one load. */
  reload(): Promise<ReloadResult> {
    this.reloading ??= Promise.resolve()
      .then(() => this.doReload())
      .finally(() => {
        this.reloading = undefined;
      });
    return this.reloading;
  }

  private doReload(): ReloadResult {
    const r = loadRuleSet(this.sources);
    const refused = r.ok ? this.validators.flatMap((v) => v(r.ruleSet)) : [];
    if (!r.ok || refused.length) {
      const errors = r.ok ? refused : r.problems.map(formatRuleProblem);
      this.metrics?.ruleReloads.inc({ result: 'error' });
      this.log?.error({ errors }, 'rule reload failed: keeping the previous rule set');
      // An editor that saves by rename replaces the watched inode: watch the paths again.
      if (this.watchers.length) this.rewatch();
      return { ok: false, errors, keptPrevious: true };
    }
    this.swap(r.ruleSet);
    this.metrics?.ruleReloads.inc({ result: 'ok' });
    this.log?.info({ rules: r.ruleSet.rules.length, spamassassin: r.ruleSet.stats.spamassassin.loaded }, 'rules reloaded');
    return { ok: true, errors: [], keptPrevious: false };
  }

  private swap(set: RuleSet): void {
    this.set = set;
    this.metrics?.rulesLoaded.set({ source: 'yaml' }, set.stats.rules.loaded);
    this.metrics?.rulesLoaded.set({ source: 'spamassassin' }, set.stats.spamassassin.loaded);
    for (const l of this.listeners) l(set);
    if (this.watchers.length) this.rewatch();
  }

  /**
   * Watch the rule files and folders (fs.watch) and reload, debounced, when they change. Folders
   * are watched too so a new file in a rule folder is noticed.
   */
  watch(): void {
    if (this.watchers.length) return;
    this.rewatch();
  }

  unwatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private rewatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const targets = new Set<string>(this.set.files);
    for (const p of [...this.sources.paths, ...this.sources.spamassassin]) targets.add(path.resolve(this.sources.baseDir, p));
    for (const t of targets) {
      try {
        const w = fs.watch(t, { persistent: false }, () => this.schedule());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // A missing path is reported by the loader; nothing to watch.
      }
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.debounceMs);
    this.timer.unref();
  }
}
