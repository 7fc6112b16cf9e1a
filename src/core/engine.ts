/**
 * The verdict engine behind every front-end (SMTP proxy, milter, scan CLI).
 *
 * A session walks connect → helo → mail → rcpt… → data. Each stage runs its checks (pipeline.ts),
 * then answers `continue` or a StageDecision:
 * - before DATA only for a forced reject/tempfail/greylist (block lists, rate limits), or, with
 *   `actions.earlyReject`, when the evidence so far already reaches the reject threshold (at RCPT,
 *   when the recipient's policy and thus the threshold is known);
 * - at DATA the verdict (verdict.ts) decides, then the post-verdict modifiers (greylisting), then the
 *   tagging headers (tagging.ts).
 *
 * State has two lifetimes: connection (connect/helo symbols, facts and forced actions) and
 * transaction (everything from MAIL on; forgotten by reset(), RFC 5321 §4.1.1.5, and by a new MAIL).
 *
 * One policy per transaction (policy.ts): the first accepted recipient fixes it; a recipient of a
 * different policy gets REPLIES.otherPolicy (452 4.5.3) and is sent again by the client in a new
 * transaction. Checks a domain disables are not run at rcpt/data, and symbols they emitted earlier
 * in the session (connect/helo/mail run before the recipient is known) do not count.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/metrics.js';
import { CONTINUE, type DataResult, type FilterEngine, type FilterSession, type StageDecision, type StageResult, type TransactionObserver, type TransactionOutcome, type VerdictModifier } from './engine-api.js';
import { EmissionSet } from './emissions.js';
import { LayeredFacts } from './facts-map.js';
import { AUTH_RESULTS, RDNS_FACT } from './facts.js';
import { firstHeaderValue } from './header-field.js';
import { runStage, type ForcedAction } from './pipeline.js';
import { PolicyTable, type Policy } from './policy.js';
import { CheckRegistry } from './registry.js';
import { REPLIES, replyForDecision } from './replies.js';
import { buildTagging } from './tagging.js';
import type { Check, ClientInfo, Emission, SessionView, Stage, Verdict } from './types.js';
import { computeVerdict, winningForce } from './verdict.js';

export interface EngineOptions {
  readonly registry: CheckRegistry;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly modifiers?: readonly VerdictModifier[];
  readonly observers?: readonly TransactionObserver[];
}

type Frontend = SessionView['frontend'];

export class Engine implements FilterEngine {
  readonly registry: CheckRegistry;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly policies: PolicyTable;
  readonly modifiers: VerdictModifier[];
  readonly observers: TransactionObserver[];
  private readonly pending = new Set<Promise<void>>();
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(opts: EngineOptions) {
    this.registry = opts.registry;
    this.config = opts.config;
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.policies = new PolicyTable(opts.config);
    this.modifiers = [...(opts.modifiers ?? [])];
    this.observers = [...(opts.observers ?? [])];
  }

  open(frontend: Frontend, sessionId?: string): EngineSession {
    return new EngineSession(this, frontend, sessionId ?? nextSessionId());
  }

  addModifier(m: VerdictModifier): void {
    this.modifiers.push(m);
  }

  addObserver(o: TransactionObserver): void {
    this.observers.push(o);
  }

  /** @internal Track a fire-and-forget observer call so flush() can wait for it. */
  track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Register a resource the engine owns (e.g. stores it created), closed by close(). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** Wait for observers, then close owned resources (shutdown, tests, scan). */
  async close(): Promise<void> {
    await this.flush();
    for (const fn of this.closers.splice(0)) await fn();
  }

  /** Wait for pending observer calls (shutdown, tests, scan). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

// Session ids: a random per-process prefix and a counter (unique in the logs without paying for
// random bytes on every connection).
const ID_PREFIX = randomBytes(4).toString('hex');
let idCounter = 0;
function nextSessionId(): string {
  return `${ID_PREFIX}${(++idCounter).toString(36).padStart(6, '0')}`;
}

/** One shared abort reason: building an Error (with its stack) per session costs more than the rest of close(). */
const SESSION_CLOSED = new Error('session closed');

const NO_CLIENT: ClientInfo = Object.freeze({ ip: '', port: 0, tls: false });
const NONE: ReadonlySet<string> = new Set();

export class EngineSession implements FilterSession {
  readonly id: string;
  private readonly log: Logger;
  /** Aborts running checks on close(); made by the first stage that runs checks (see close()). */
  private abort: AbortController | undefined;
  /** Stages running checks right now. */
  private running = 0;
  private readonly facts = new LayeredFacts();
  private client: ClientInfo = NO_CLIENT;
  private heloName: string | undefined;
  // Connection lifetime
  private readonly connEmissions = new EmissionSet();
  private readonly connForced: ForcedAction[] = [];
  // HELO/EHLO lifetime: a new EHLO (e.g. after STARTTLS, RFC 3207 §4.2) replaces what the last one said.
  private heloEmissions = new EmissionSet();
  private heloForced: ForcedAction[] = [];
  // Transaction lifetime
  private mailFrom = '';
  /** MAIL FROM parameters as the front-end parsed them (RFC 5321 §4.1.2 Mail-parameters, e.g. AUTH=). */
  private mailParams: Readonly<Record<string, string | boolean>> | undefined;
  private rcpts: string[] = [];
  private currentRcpt: string | undefined;
  private message: Buffer | undefined;
  private txnEmissions = new EmissionSet();
  private txnForced: ForcedAction[] = [];
  private policy: Policy | undefined;
  private verdict: Verdict | undefined;
  private observed = false;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    readonly frontend: Frontend,
    id: string,
  ) {
    this.id = id;
    this.log = engine.log.child({ session: id, frontend });
  }

  /** An immutable snapshot for checks. */
  view(): SessionView {
    return {
      id: this.id,
      client: this.client,
      ...(this.heloName !== undefined ? { helo: this.heloName } : {}),
      envelope: { mailFrom: this.mailFrom, rcptTo: [...this.rcpts], ...(this.mailParams ? { mailParams: this.mailParams } : {}) },
      ...(this.currentRcpt !== undefined ? { currentRcpt: this.currentRcpt } : {}),
      ...(this.message !== undefined ? { message: this.message } : {}),
      frontend: this.frontend,
    };
  }

  /** The transaction's policy (global until a recipient is accepted). */
  get activePolicy(): Policy {
    return this.policy ?? this.engine.policies.global;
  }

  async connect(client: ClientInfo): Promise<StageResult> {
    return this.guard('connect', async () => {
      this.client = client;
      await this.run('connect', NONE);
      return this.observeRefusal(this.decision());
    });
  }

  async helo(name: string): Promise<StageResult> {
    return this.guard('helo', async () => {
      this.heloName = name;
      this.heloEmissions = new EmissionSet();
      this.heloForced = [];
      await this.run('helo', NONE);
      return this.observeRefusal(this.decision());
    });
  }

  async mail(from: string, args: Readonly<Record<string, string | boolean>>): Promise<StageResult> {
    return this.guard('mail', async () => {
      this.resetTransaction(); // a new MAIL starts a new transaction (RFC 5321 §4.1.1.2)
      this.mailFrom = from;
      this.mailParams = args && Object.keys(args).length ? args : undefined;
      await this.run('mail', NONE);
      return this.observeRefusal(this.decision());
    });
  }

  async rcpt(to: string): Promise<StageResult> {
    return this.guard('rcpt', async () => {
      const policy = this.engine.policies.forRecipient(to);
      if (this.policy && this.policy.key !== policy.key) {
        this.log.info({ rcptPolicy: policy.key, txnPolicy: this.policy.key }, 'recipient of another domain policy deferred');
        return { action: 'tempfail', reason: 'recipient of another domain policy', reply: REPLIES.otherPolicy };
      }
      // A refused recipient leaves no trace in the transaction's evidence.
      const savedEmissions = this.txnEmissions.clone();
      const savedForced = this.txnForced.length;
      this.currentRcpt = to;
      try {
        await this.run('rcpt', policy.disabledChecks);
        const d = this.decision(policy.disabledChecks);
        if (d.action !== 'continue') {
          this.observeRefusal(d, policy);
          this.txnEmissions = savedEmissions;
          this.txnForced.length = savedForced;
          return d;
        }
        if (this.engine.config.actions.earlyReject && !this.forcedAccept(policy.disabledChecks)) {
          const v = this.score(policy);
          if (v.score >= policy.thresholds.reject) {
            this.log.info({ score: v.score, symbols: v.symbols.map((s) => s.name) }, 'early reject at RCPT');
            return { action: 'reject', reason: v.reason ?? 'spam' };
          }
        }
        this.rcpts.push(to);
        this.policy ??= policy;
        return CONTINUE;
      } finally {
        this.currentRcpt = undefined;
      }
    });
  }

  async data(message: Buffer): Promise<DataResult> {
    const e = this.engine;
    let verdict: Verdict;
    try {
      this.message = message;
      const policy = this.activePolicy;
      await this.run('data', policy.disabledChecks);
      verdict = this.score(policy);
      // A forced action (allow/block list, rate limit) is final: modifiers only adjust score verdicts.
      for (const m of verdict.forced ? [] : e.modifiers) {
        if (m.appliesTo && !m.appliesTo.includes(verdict.action)) continue;
        try {
          verdict = await m.adjust(this.view(), verdict, this.facts);
        } catch (err) {
          this.log.warn({ err, modifier: m.name }, 'verdict modifier failed; verdict kept');
        }
      }
    } catch (err) {
      // Only an engine fault becomes a tempfail (ARCHITECTURE habit 3).
      this.log.error({ err }, 'engine fault at DATA');
      verdict = { action: 'tempfail', score: 0, required: this.activePolicy.thresholds.tag, symbols: [], reason: 'local problem' };
    }
    this.verdict = verdict;
    this.observed = false;
    // messages_total and verdict_score are counted by the front-ends, which know the final outcome.
    for (const s of verdict.symbols) e.metrics.symbolHits.inc({ symbol: s.name });
    // The front-end writes the one info line per transaction (verdict, downstream reply, timings);
    // this one is for debugging the engine alone (its fields are only built when it is written).
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug(
        {
          action: verdict.action,
          score: verdict.score,
          required: verdict.required,
          policy: this.activePolicy.key,
          symbols: verdict.symbols.map((s) => `${s.name}(${s.score})`).join(' '),
          ...(verdict.forced ? { forcedBy: verdict.forced.by } : {}),
        },
        'verdict',
      );
    }

    if (verdict.action === 'reject' || verdict.action === 'greylist' || verdict.action === 'tempfail') {
      const reply = replyForDecision({ action: verdict.action, reason: verdict.reason ?? '' });
      this.observe({ accepted: false, code: reply.code, text: reply.text });
    }
    const authResults = this.facts.get(AUTH_RESULTS);
    const subjectPrefix = e.config.actions.subjectPrefix;
    const subject = verdict.action === 'tag' && subjectPrefix ? firstHeaderValue(message, 'subject') : undefined;
    const tagging = buildTagging({
      verdict,
      hostname: e.config.hostname,
      ...(authResults ? { authResults } : {}),
      ...(subjectPrefix ? { subjectPrefix } : {}),
      ...(subject !== undefined ? { subject } : {}),
    });
    return { verdict, ...tagging };
  }

  delivered(outcome: TransactionOutcome): void {
    this.observe(outcome);
  }

  reset(): void {
    this.resetTransaction();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Only running checks listen to the signal: most sessions close between stages, and an abort
    // (an Event dispatched) with nobody listening is wasted work (issue 6).
    if (this.running) this.abort?.abort(SESSION_CLOSED);
  }

  verifiedClientName(): string | undefined {
    return this.facts.get(RDNS_FACT)?.hostname;
  }

  // ---------------------------------------------------------------------------------------------

  /** Facts published so far (for the scan CLI and observers). */
  factsSnapshot(): Record<string, unknown> {
    return this.facts.toObject();
  }

  private resetTransaction(): void {
    this.mailFrom = '';
    this.mailParams = undefined;
    this.rcpts = [];
    this.currentRcpt = undefined;
    this.message = undefined;
    this.txnEmissions = new EmissionSet();
    this.txnForced = [];
    this.policy = undefined;
    this.verdict = undefined;
    this.observed = false;
    this.facts.resetTransaction();
  }

  private async run(stage: Stage, disabled: ReadonlySet<string>): Promise<void> {
    const e = this.engine;
    const connLevel = stage === 'connect' || stage === 'helo';
    this.facts.sessionLayer = connLevel;
    const all = e.registry.forStage(stage);
    const checks = disabled.size ? all.filter((c) => !disabled.has(c.name)) : all;
    // A closed session runs no more checks (its signal is only aborted while some run, see close()).
    if (!checks.length || this.closed) return;
    const forced = stage === 'connect' ? this.connForced : stage === 'helo' ? this.heloForced : this.txnForced;
    this.running++;
    try {
      await this.runChecks(stage, checks, forced);
    } finally {
      this.running--;
    }
  }

  private runChecks(stage: Stage, checks: readonly Check[], forced: ForcedAction[]): Promise<unknown> {
    const e = this.engine;
    return runStage({
      stage,
      checks,
      session: this.view(),
      facts: this.facts,
      signal: (this.abort ??= new AbortController()).signal,
      log: this.log,
      registry: e.registry,
      metrics: e.metrics,
      emissions: stage === 'connect' ? this.connEmissions : stage === 'helo' ? this.heloEmissions : this.txnEmissions,
      onForce: (f) => {
        // Forced actions are rare and always logged.
        this.log.info({ check: f.by, action: f.action, reason: f.reason, stage }, 'forced action');
        forced.push(f);
      },
    });
  }

  private allForced(): ForcedAction[] {
    return [...this.connForced, ...this.heloForced, ...this.txnForced];
  }

  /** Forced actions that count under a policy (a check the domain disables does not force). */
  private forcedUnder(disabled: ReadonlySet<string> = NONE): ForcedAction[] {
    const all = this.allForced();
    return disabled.size ? all.filter((f) => !disabled.has(f.by)) : all;
  }

  private forcedAccept(disabled?: ReadonlySet<string>): boolean {
    return winningForce(this.forcedUnder(disabled))?.action === 'accept';
  }

  /** Before DATA only a forced reject/tempfail/greylist stops the command. */
  private decision(disabled?: ReadonlySet<string>): StageResult {
    const f = winningForce(this.forcedUnder(disabled));
    if (!f || f.action === 'accept' || f.action === 'tag') return CONTINUE;
    const d: StageDecision = { action: f.action, reason: f.reason, ...(f.reply ? { reply: f.reply } : {}) };
    return d;
  }

  /** The verdict over everything emitted so far, under a policy. */
  private score(policy: Policy): Verdict {
    const r = this.engine.registry;
    const merged = this.connEmissions.clone();
    for (const em of this.heloEmissions.list()) merged.add(em.name, em.check, em.options, em.weight);
    for (const em of this.txnEmissions.list()) merged.add(em.name, em.check, em.options, em.weight);
    let emissions: Emission[] = merged.list();
    const dis = policy.disabledChecks;
    if (dis.size) emissions = emissions.filter((em) => !dis.has(em.check));
    return computeVerdict({ emissions, scoreOf: (n) => r.scoreOf(n), thresholds: policy.thresholds, forced: this.forcedUnder(dis) });
  }

  private observe(outcome: TransactionOutcome): void {
    const verdict = this.verdict;
    if (!verdict || this.observed) return;
    this.observed = true;
    this.notify(this.view(), verdict, outcome);
  }

  /**
   * A command refused before DATA (block list, rate limit, fail-closed store) is a verdict too:
   * history must answer "why was this refused?" for it as well. Observers see the forced verdict
   * (reputation does not learn from forced verdicts) and, at RCPT, the refused recipient.
   */
  private observeRefusal(d: StageResult, policy: Policy = this.activePolicy): StageResult {
    if (d.action === 'continue' || !this.engine.observers.length) return d;
    const reply = replyForDecision(d);
    const scored = this.score(policy);
    const verdict: Verdict = {
      ...scored,
      action: d.action,
      forced: scored.forced ?? { by: 'engine', reason: d.reason },
      reason: d.reason,
    };
    const view = this.view();
    const refused = this.currentRcpt;
    const shown: SessionView = refused ? { ...view, envelope: { ...view.envelope, rcptTo: [...view.envelope.rcptTo, refused] } } : view;
    this.notify(shown, verdict, { accepted: false, code: reply.code, text: reply.text });
    return d;
  }

  private notify(view: SessionView, verdict: Verdict, outcome: TransactionOutcome): void {
    const facts = this.facts.snapshot();
    for (const o of this.engine.observers) {
      const p = (async () => {
        try {
          await o.onTransaction(view, verdict, outcome, facts);
        } catch (err) {
          this.log.warn({ err, observer: o.name }, 'transaction observer failed');
        }
      })();
      this.engine.track(p);
    }
  }

  /** An engine fault in a stage tempfails that command rather than crashing the front-end. */
  private async guard(stage: Stage, fn: () => Promise<StageResult>): Promise<StageResult> {
    try {
      return await fn();
    } catch (err) {
      this.log.error({ err, stage }, 'engine fault');
      return { action: 'tempfail', reason: 'local problem' };
    }
  }
}
