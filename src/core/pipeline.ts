/**
 * Runs one SMTP stage's checks. Independent checks run concurrently; a check waits only for the
 * checks it `dependsOn` (whose facts it reads). Each run gets an AbortSignal that fires at the
 * check's deadline or when the session closes. A check that throws becomes CHECK_ERROR, one that
 * runs late CHECK_TIMEOUT (score 0, counted in spamgate_check_errors_total{check,kind}); the others
 * carry on (ARCHITECTURE "Failure policy"). Emitting an undeclared symbol is a programming error and
 * is treated as CHECK_ERROR too.
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
  for (const check of run.checks) {
    // Dependencies of the same stage come earlier in `checks` (topological order); a dependency
    // that is disabled for this domain, or of an earlier stage, is simply not waited for.
    const deps = (check.dependsOn ?? []).map((d) => started.get(d)).filter((p): p is Promise<CheckOutcome> => p !== undefined);
    started.set(check.name, deps.length ? Promise.all(deps).then(() => runCheck(check, run)) : runCheck(check, run));
  }
  const outcomes = new Map<string, CheckOutcome>();
  for (const [name, p] of started) outcomes.set(name, await p);
  return outcomes;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

async function runCheck(check: Check, run: StageRun): Promise<CheckOutcome> {
  if (run.signal.aborted) return 'closed';
  const log = run.log.child({ check: check.name });
  const ac = new AbortController();
  let finished = false;
  let misuse: string | undefined;

  const ctx: CheckContext = {
    stage: run.stage,
    session: run.session,
    facts: run.facts,
    signal: ac.signal,
    log,
    emit(symbol, options, weight = 1) {
      if (finished) return; // a late check's emissions no longer count
      if (!run.registry.declares(check.name, symbol)) {
        misuse ??= `emitted undeclared symbol ${JSON.stringify(symbol)}`;
        return;
      }
      if (!Number.isFinite(weight)) {
        misuse ??= `emitted ${symbol} with non-finite weight ${weight}`;
        return;
      }
      run.emissions.add(symbol, check.name, options ?? [], weight);
    },
    force(action, reason, reply) {
      if (finished) return;
      run.onForce({ action, reason, by: check.name, ...(reply ? { reply } : {}) });
    },
  };

  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const cut = new Promise<'timeout' | 'closed'>((resolve) => {
    timer = setTimeout(() => {
      finished = true; // before abort(): a check reacting to the signal must not emit any more
      ac.abort(new TimeoutError(`check ${check.name} ran past its ${check.timeoutMs} ms deadline`));
      resolve('timeout');
    }, check.timeoutMs);
    onClose = () => {
      finished = true;
      ac.abort(run.signal.reason);
      resolve('closed');
    };
    run.signal.addEventListener('abort', onClose, { once: true });
  });

  const t0 = process.hrtime.bigint();
  let outcome: CheckOutcome;
  let error: unknown;
  const p = Promise.resolve().then(() => check.run(ctx));
  p.catch(() => undefined); // a late rejection after the deadline must not become unhandled
  try {
    outcome = await Promise.race([p.then(() => 'ok' as const), cut]);
  } catch (e) {
    outcome = 'error';
    error = e;
  } finally {
    finished = true;
    clearTimeout(timer);
    if (onClose) run.signal.removeEventListener('abort', onClose);
  }
  run.metrics.checkDuration.observe({ check: check.name }, Number(process.hrtime.bigint() - t0) / 1e9);

  if (outcome === 'ok' && misuse) {
    outcome = 'error';
    error = new Error(misuse);
  }
  if (outcome === 'error') {
    run.emissions.add(CHECK_ERROR, ENGINE_CHECK, [check.name]);
    run.metrics.checkErrors.inc({ check: check.name, kind: 'error' });
    log.warn({ err: error, stage: run.stage }, 'check failed');
  } else if (outcome === 'timeout') {
    run.emissions.add(CHECK_TIMEOUT, ENGINE_CHECK, [check.name]);
    run.metrics.checkErrors.inc({ check: check.name, kind: 'timeout' });
    log.warn({ stage: run.stage, timeoutMs: check.timeoutMs }, 'check ran past its deadline');
  }
  return outcome;
}
