/**
 * The check registry: every check and every symbol it can emit, built once at boot.
 *
 * It refuses (listing every problem at once, ARCHITECTURE habit 5): duplicate check names, a symbol
 * declared twice (by two checks or by one), a `dependsOn` naming an unknown/disabled check or a
 * check of a later stage, dependency cycles, malformed symbol names, and `scores:` overrides naming
 * a symbol no check declares.
 *
 * Some checks have dynamic symbols (the `rules` check's `symbols` getter returns the current rule
 * set's symbols, which change on rule reload): `rebuildSymbols()` re-reads every check's symbols
 * and swaps the table only when the new one is clean, so a bad reload keeps the old table.
 */
import { STAGES, type Check, type Stage, type SymbolDef } from './types.js';

/** Symbols the engine itself emits (score 0: a failure is a result, not a verdict; habit 3). */
export const ENGINE_CHECK = 'engine';
export const CHECK_ERROR = 'CHECK_ERROR';
export const CHECK_TIMEOUT = 'CHECK_TIMEOUT';
export const ENGINE_SYMBOLS: readonly SymbolDef[] = [
  { name: CHECK_ERROR, score: 0, description: 'A check threw or emitted an undeclared symbol (options: check names)', category: 'engine' },
  { name: CHECK_TIMEOUT, score: 0, description: 'A check ran past its deadline (options: check names)', category: 'engine' },
];

const SYMBOL_NAME = /^[A-Z][A-Z0-9_]*$/;
const CHECK_NAME = /^[a-z][a-z0-9_]*$/;

export interface RegisteredSymbol {
  readonly def: SymbolDef;
  /** Check that declares it (`engine` for CHECK_ERROR/CHECK_TIMEOUT). */
  readonly check: string;
  /** Effective score: the `scores:` override, else the declared default. */
  readonly score: number;
  /** True when `scores:` overrides the default. */
  readonly overridden: boolean;
}

export class RegistryError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`check registry: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    this.name = 'RegistryError';
    this.problems = problems;
  }
}

type SymbolTable = ReadonlyMap<string, RegisteredSymbol>;

/** Symbols declared by something other than a check, e.g. a verdict modifier's notes (GREYLIST_PASS). */
export interface ExtraSymbols {
  /** Shown as the symbol's `check` (e.g. `greylist`). */
  readonly owner: string;
  readonly symbols: readonly SymbolDef[];
}

export class CheckRegistry {
  readonly checks: readonly Check[];
  private readonly byName: ReadonlyMap<string, Check>;
  private readonly stageOrder: ReadonlyMap<Stage, readonly Check[]>;
  private scores: Readonly<Record<string, number>>;
  private table: SymbolTable;
  /** check name → the set of symbol names it declares (for the emit guard). */
  private declared: ReadonlyMap<string, ReadonlySet<string>>;

  private constructor(
    checks: readonly Check[],
    stageOrder: Map<Stage, Check[]>,
    scores: Readonly<Record<string, number>>,
    table: SymbolTable,
    private readonly extra: readonly ExtraSymbols[],
  ) {
    this.checks = checks;
    this.byName = new Map(checks.map((c) => [c.name, c]));
    this.stageOrder = stageOrder;
    this.scores = scores;
    this.table = table;
    this.declared = declaredSets(table);
  }

  /** Build or throw RegistryError listing every problem. */
  static build(checks: readonly Check[], scores: Readonly<Record<string, number>> = {}, extra: readonly ExtraSymbols[] = []): CheckRegistry {
    const { registry, problems } = CheckRegistry.tryBuild(checks, scores, extra);
    if (!registry) throw new RegistryError(problems);
    return registry;
  }

  static tryBuild(
    checks: readonly Check[],
    scores: Readonly<Record<string, number>> = {},
    extra: readonly ExtraSymbols[] = [],
  ): { registry?: CheckRegistry; problems: string[] } {
    const problems: string[] = [];
    const names = new Set<string>();
    for (const c of checks) {
      if (!CHECK_NAME.test(c.name)) problems.push(`check "${c.name}": name must be lower_snake`);
      if (c.name === ENGINE_CHECK) problems.push(`check "${c.name}": name is reserved for the engine`);
      if (names.has(c.name)) problems.push(`check "${c.name}" is registered twice`);
      names.add(c.name);
      if (!STAGES.includes(c.stage)) problems.push(`check "${c.name}": unknown stage "${String(c.stage)}"`);
      if (!(Number.isFinite(c.timeoutMs) && c.timeoutMs > 0)) problems.push(`check "${c.name}": timeoutMs must be a positive number`);
    }
    const byName = new Map(checks.map((c) => [c.name, c]));
    for (const c of checks) {
      for (const d of c.dependsOn ?? []) {
        const dep = byName.get(d);
        if (!dep) problems.push(`check "${c.name}" depends on "${d}", which is not a registered (enabled) check`);
        else if (STAGES.indexOf(dep.stage) > STAGES.indexOf(c.stage))
          problems.push(`check "${c.name}" (stage ${c.stage}) depends on "${d}" of the later stage ${dep.stage}`);
      }
    }
    const cycle = findCycle(checks, byName);
    if (cycle) problems.push(`dependency cycle: ${cycle.join(' -> ')}`);

    const { table, problems: symProblems } = buildTable(checks, scores, extra);
    problems.push(...symProblems);
    if (problems.length) return { problems };

    const stageOrder = new Map<Stage, Check[]>();
    for (const s of STAGES) stageOrder.set(s, topoSort(checks.filter((c) => c.stage === s), byName));
    return { registry: new CheckRegistry(checks, stageOrder, scores, table, extra), problems };
  }

  /** Checks of a stage, dependencies before dependants (the pipeline still runs independents concurrently). */
  forStage(stage: Stage): readonly Check[] {
    return this.stageOrder.get(stage) ?? [];
  }

  check(name: string): Check | undefined {
    return this.byName.get(name);
  }

  symbol(name: string): RegisteredSymbol | undefined {
    return this.table.get(name);
  }

  /** Effective score of a symbol, undefined when unknown. */
  scoreOf(name: string): number | undefined {
    return this.table.get(name)?.score;
  }

  /** Whether `check` declared `symbol` (engine symbols are declared by `engine`). */
  declares(check: string, symbol: string): boolean {
    return this.declared.get(check)?.has(symbol) ?? false;
  }

  /** Every symbol, sorted by name. */
  symbols(): RegisteredSymbol[] {
    return [...this.table.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0));
  }

  /**
   * Problems the table would have if `check` declared `defs` instead (nothing is swapped). A rule
   * loader can call this before activating a new rule set, so a set whose symbols clash with
   * another check or drop a `scores:` override is refused up front.
   */
  validateSymbols(check: string, defs: readonly SymbolDef[]): string[] {
    const candidate = this.checks.map((c) => (c.name === check ? { ...c, symbols: defs } : c));
    return buildTable(candidate, this.scores, this.extra).problems;
  }

  /**
   * Re-read every check's (possibly dynamic) symbols, e.g. after a rule reload. On any problem the
   * old table stays active and the problems are returned; [] means the new table is active.
   * `scores` replaces the overrides when given (config reload).
   */
  rebuildSymbols(scores: Readonly<Record<string, number>> = this.scores): string[] {
    const { table, problems } = buildTable(this.checks, scores, this.extra);
    if (problems.length) return problems;
    this.table = table;
    this.declared = declaredSets(table);
    this.scores = scores;
    return [];
  }
}

function buildTable(
  checks: readonly Check[],
  scores: Readonly<Record<string, number>>,
  extra: readonly ExtraSymbols[],
): { table: SymbolTable; problems: string[] } {
  const problems: string[] = [];
  const table = new Map<string, RegisteredSymbol>();
  const add = (def: SymbolDef, check: string) => {
    if (!SYMBOL_NAME.test(def.name)) problems.push(`check "${check}": symbol "${def.name}" is not UPPER_SNAKE`);
    if (!Number.isFinite(def.score)) problems.push(`check "${check}": symbol "${def.name}" has a non-finite score`);
    const prev = table.get(def.name);
    if (prev) {
      problems.push(
        prev.check === ENGINE_CHECK
          ? `check "${check}": symbol "${def.name}" is reserved for the engine`
          : prev.check === check
          ? `check "${check}" declares symbol "${def.name}" twice`
          : `symbol "${def.name}" is declared by both "${prev.check}" and "${check}"`,
      );
      return;
    }
    const o = Object.prototype.hasOwnProperty.call(scores, def.name) ? scores[def.name] : undefined;
    table.set(def.name, { def, check, score: o ?? def.score, overridden: o !== undefined });
  };
  for (const def of ENGINE_SYMBOLS) add(def, ENGINE_CHECK);
  for (const c of checks) {
    let defs: readonly SymbolDef[];
    try {
      defs = c.symbols;
    } catch (e) {
      problems.push(`check "${c.name}": reading its symbols failed: ${(e as Error).message}`);
      continue;
    }
    for (const def of defs) add(def, c.name);
  }
  for (const x of extra) for (const def of x.symbols) add(def, x.owner);
  for (const name of Object.keys(scores)) {
    if (!table.has(name)) problems.push(`scores.${name}: no check declares the symbol "${name}"`);
  }
  return { table, problems };
}

function declaredSets(table: SymbolTable): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const s of table.values()) {
    let set = m.get(s.check);
    if (!set) m.set(s.check, (set = new Set()));
    set.add(s.def.name);
  }
  return m;
}

/** A cycle among dependsOn edges as a list of names (first = last), or undefined. */
function findCycle(checks: readonly Check[], byName: ReadonlyMap<string, Check>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 2) return undefined;
    if (s === 1) return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 1);
    stack.push(name);
    for (const d of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(name, 2);
    return undefined;
  };
  for (const c of checks) {
    const cyc = visit(c.name);
    if (cyc) return cyc;
  }
  return undefined;
}

/** Stable topological order (registration order among independents); assumes no cycle. */
function topoSort(stageChecks: readonly Check[], byName: ReadonlyMap<string, Check>): Check[] {
  const inStage = new Set(stageChecks.map((c) => c.name));
  const out: Check[] = [];
  const done = new Set<string>();
  const visit = (c: Check) => {
    if (done.has(c.name)) return;
    done.add(c.name);
    for (const d of c.dependsOn ?? []) {
      const dep = byName.get(d);
      if (dep && inStage.has(d)) visit(dep);
    }
    out.push(c);
  };
  for (const c of stageChecks) visit(c);
  return out;
}
