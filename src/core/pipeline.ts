/**
 * Runs one SMTP stage's checks. Independent checks run concurrently; a check waits only for the
 * checks it `dependsOn` (whose facts it reads). Each run gets an AbortSignal that fires at the
 * check's deadline or when the session closes. A check that throws becomes CHECK_ERROR, one that
 * runs late CHECK_TIMEOUT (score 0, counted in spamgate_check_errors_total{check,kind}); the others
 * carry on (ARCHITECTURE "Failure policy"). Emitting an undeclared symbol is a programming error and
 * is treated as CHECK_ERROR too.
 *
 * Cost per message matters here (issue 6): checks that start at the same moment with the same
 * timeout have the same deadline, so they share one AbortController, one timer and one listener
 * on the session's signal (a "deadline group") instead of one each; a check's child logger is
 * only built when the check logs.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import type { EmissionSet } from './emissions.js';
import { CHECK_ERROR, CHECK_TIMEOUT, ENGINE_CHECK, type CheckRegistry } from './registry.js';
import type { Action, Check, CheckContext, Facts, ForcedReply, SessionView, Stage } from './types.js';

export interface ForcedAction {
  readonly action: Action;
  readonly reason: string;
  /** Check name that forced it. */
  readonly by: string;
  readonly reply?: ForcedReply;
}

export interface StageRun {
  readonly stage: Stage;
  /** The stage's checks in dependency order, minus any disabled by policy. */
  readonly checks: readonly Check[];
  readonly session: SessionView;
  readonly facts: Facts;
  /** The session's signal: aborts every running check when the session closes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly registry: CheckRegistry;
  readonly metrics: Metrics;
  readonly emissions: EmissionSet;
  onForce(f: ForcedAction): void;
}

export type CheckOutcome = 'ok' | 'error' | 'timeout' | 'closed';

/** Run every check of the stage; resolves when all finished, failed or hit their deadline. Never rejects. */
export async function runStage(run: StageRun): Promise<Map<string, CheckOutcome>> {
  const started = new Map<string, Promise<CheckOutcome>>();
  // Checks without dependencies all start now: one deadline group per distinct timeout.
  const groups = new Map<number, DeadlineGroup>();
  for (const check of run.checks) {
    // Dependencies of the same stage come earlier in `checks` (topological order); a dependency
    // that is disabled for this domain, or of an earlier stage, is simply not waited for.
    let deps: Promise<CheckOutcome>[] | undefined;
    for (const d of check.dependsOn ?? []) {
      const p = started.get(d);
      if (p) (deps ??= []).push(p);
    }
    if (deps) {
      // Starts later, when its dependencies are done: a deadline of its own from then.
      started.set(check.name, Promise.all(deps).then(() => runCheck(check, run, new DeadlineGroup(run, check.timeoutMs))));
    } else {
      let g = groups.get(check.timeoutMs);
      if (!g) groups.set(check.timeoutMs, (g = new DeadlineGroup(run, check.timeoutMs)));
      started.set(check.name, runCheck(check, run, g));
    }
  }
  const outcomes = new Map<string, CheckOutcome>();
  for (const [name, p] of started) outcomes.set(name, await p);
  return outcomes;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Checks that started together with the same timeout: their deadline is the same instant, so one
 * controller, timer and session listener serve them all. The signal aborts at the deadline (with a
 * TimeoutError) or when the session closes (with the session's reason), whichever comes first,
 * unless every member finished before; it is shared by the members only, so a member's abort never
 * reaches a check with another deadline.
 */
class DeadlineGroup {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly members = new Set<CheckRun>();
  private readonly onClose = () => this.cut('closed', this.run.signal.reason);

  constructor(
    private readonly run: StageRun,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Created on first use: many checks never look at it (Redis-backed ones have their own store
   * deadline), and an AbortController with its signal costs more than the rest of a group.
   */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  join(m: CheckRun): void {
    if (this.members.size === 0) {
      this.timer = setTimeout(() => {
        const late = [...this.members].map((x) => x.check.name).join(', ');
        this.cut('timeout', new TimeoutError(`check ${late} ran past its ${this.timeoutMs} ms deadline`));
      }, this.timeoutMs);
      this.run.signal.addEventListener('abort', this.onClose, { once: true });
    }
    this.members.add(m);
  }

  leave(m: CheckRun): void {
    if (!this.members.delete(m) || this.members.size) return;
    clearTimeout(this.timer);
    this.run.signal.removeEventListener('abort', this.onClose);
  }

  private cut(outcome: 'timeout' | 'closed', reason: unknown): void {
    const late = [...this.members];
    this.members.clear();
    clearTimeout(this.timer);
    this.run.signal.removeEventListener('abort', this.onClose);
    // Before abort(): a check reacting to the signal must not emit any more.
    for (const m of late) m.finished = true;
    (this.controller ??= new AbortController()).abort(reason);
    for (const m of late) m.settle(outcome);
  }
}

/**
 * What a check sees while it runs (its CheckContext), and its state for the pipeline. A class, not
 * an object literal: `signal` and `log` are getters shared on the prototype (accessors in a literal
 * cost a new accessor pair per check run, measured slower than the controller they save);
 * emit/force stay own arrow functions so a check may pass them around unbound.
 */
class CheckRun implements CheckContext {
  readonly stage: Stage;
  readonly session: SessionView;
  readonly facts: Facts;
  /** Set when the check's result is final (done, failed, late or closed): later emissions do not count. */
  finished = false;
  misuse: string | undefined;
  /** Ends the run with its outcome (first call wins); set by runCheck. */
  settle: (outcome: CheckOutcome, error?: unknown) => void = () => undefined;
  private childLog: Logger | undefined;

  constructor(
    readonly check: Check,
    private readonly run: StageRun,
    private readonly group: DeadlineGroup,
  ) {
    this.stage = run.stage;
    this.session = run.session;
    this.facts = run.facts;
  }

  get signal(): AbortSignal {
    return this.group.signal;
  }

  /** Built on first use: most checks never log, and a pino child serializes its bindings. */
  get log(): Logger {
    return (this.childLog ??= this.run.log.child({ check: this.check.name }));
  }

  readonly emit: CheckContext['emit'] = (symbol, options, weight = 1) => {
    if (this.finished) return; // a late check's emissions no longer count
    const name = this.check.name;
    if (!this.run.registry.declares(name, symbol)) {
      this.misuse ??= `emitted undeclared symbol ${JSON.stringify(symbol)}`;
      return;
    }
    if (!Number.isFinite(weight)) {
      this.misuse ??= `emitted ${symbol} with non-finite weight ${weight}`;
      return;
    }
    this.run.emissions.add(symbol, name, options ?? [], weight);
  };

  readonly force: CheckContext['force'] = (action, reason, reply) => {
    if (this.finished) return;
    this.run.onForce({ action, reason, by: this.check.name, ...(reply ? { reply } : {}) });
  };
}

/**
 * Runs one check to its outcome. Written with one promise and plain callbacks rather than
 * `await Promise.race([run, deadline])`: that costs four more promises and an async frame per
 * check, ≈ 17 checks per message (issue 6).
 */
function runCheck(check: Check, run: StageRun, group: DeadlineGroup): Promise<CheckOutcome> {
  if (run.signal.aborted) return Promise.resolve('closed');
  return new Promise<CheckOutcome>((resolve) => {
    const ctx = new CheckRun(check, run, group);
    const t0 = process.hrtime.bigint();
    ctx.settle = (outcome, error) => {
      ctx.settle = () => undefined; // the first outcome wins (a late result after the deadline is dropped)
      ctx.finished = true;
      group.leave(ctx);
      resolve(conclude(ctx, run, outcome, error, t0));
    };
    group.join(ctx);
    let p: unknown;
    try {
      p = check.run(ctx);
    } catch (e) {
      ctx.settle('error', e); // thrown synchronously
      return;
    }
    if (typeof (p as PromiseLike<void> | undefined)?.then === 'function') {
      // A rejection after the deadline lands here too, so it never becomes unhandled.
      (p as PromiseLike<void>).then(
        () => ctx.settle('ok'),
        (e: unknown) => ctx.settle('error', e),
      );
    } else ctx.settle('ok');
  });
}

/** Metrics, CHECK_ERROR / CHECK_TIMEOUT and the log line for a finished run. */
function conclude(ctx: CheckRun, run: StageRun, outcome: CheckOutcome, error: unknown, t0: bigint): CheckOutcome {
  const check = ctx.check;
  run.metrics.checkDuration.observe({ check: check.name }, Number(process.hrtime.bigint() - t0) / 1e9);
  if (outcome === 'ok' && ctx.misuse) {
    outcome = 'error';
    error = new Error(ctx.misuse);
  }
  if (outcome === 'error') {
    run.emissions.add(CHECK_ERROR, ENGINE_CHECK, [check.name]);
    run.metrics.checkErrors.inc({ check: check.name, kind: 'error' });
    ctx.log.warn({ err: error, stage: run.stage }, 'check failed');
  } else if (outcome === 'timeout') {
    run.emissions.add(CHECK_TIMEOUT, ENGINE_CHECK, [check.name]);
    run.metrics.checkErrors.inc({ check: check.name, kind: 'timeout' });
    ctx.log.warn({ stage: run.stage, timeoutMs: check.timeoutMs }, 'check ran past its deadline');
  }
  return outcome;
}
