/**
 * Core vocabulary shared by every part of spamgate: SMTP stages, symbols, checks, facts, verdicts.
 *
 * A check never decides what happens to mail. It reports symbols (named evidence); configuration
 * decides what each symbol is worth; the verdict is a pure function of the scored symbols
 * (see ../../shared/ARCHITECTURE.md, "Habits" 1–3).
 */
import type { Logger } from 'pino';

/** SMTP stages in the order a session goes through them (RFC 5321 §3). */
export type Stage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data';
export const STAGES: readonly Stage[] = ['connect', 'helo', 'mail', 'rcpt', 'data'];

/** What happens to a message. `tempfail` is an engine fault or fail-closed store, never a score band. */
export type Action = 'accept' | 'tag' | 'greylist' | 'tempfail' | 'reject';

/** A symbol a check may emit, declared up front so scores, listings and metric labels stay bounded. */
export interface SymbolDef {
  /** UPPER_SNAKE, never renamed once shipped: admins write rules and overrides against it. */
  readonly name: string;
  /** Default score; `scores:` in the config overrides it. */
  readonly score: number;
  readonly description: string;
  /** Reporting category (phishing, malware, fraud, commercial, adult, backscatter, auth, network, policy…). */
  readonly category?: string;
}

/** One emitted piece of evidence before scoring. */
export interface Emission {
  readonly name: string;
  /** Free-form details shown to admins (e.g. the listed zone, the matched URL). Kept short. */
  readonly options: readonly string[];
  /**
   * Multiplier on the configured score (rspamd's dynamic weight), e.g. a reputation confidence or
   * a Bayes probability. Defaults to 1.
   */
  readonly weight: number;
  /** Name of the check that emitted it. */
  readonly check: string;
}

/** A scored symbol as it appears in a verdict. */
export interface SymbolResult {
  readonly name: string;
  readonly score: number;
  readonly options: readonly string[];
}

/** A typed key for facts that checks publish for checks that depend on them. */
export interface FactKey<T> {
  readonly name: string;
  /** Phantom field carrying the type; never set at run time. */
  readonly __type?: T;
}
export function factKey<T>(name: string): FactKey<T> {
  return { name };
}

export interface Facts {
  get<T>(key: FactKey<T>): T | undefined;
  set<T>(key: FactKey<T>, value: T): void;
}

/** The SMTP client as seen by spamgate (after PROXY protocol / XCLIENT, i.e. the real client). */
export interface ClientInfo {
  readonly ip: string;
  readonly port: number;
  /** Reverse DNS name if resolved, else undefined. */
  readonly hostname?: string;
  /** Local address/port the client connected to. */
  readonly localIp?: string;
  readonly localPort?: number;
  /** STARTTLS negotiated. */
  readonly tls: boolean;
}

/** Envelope of the current transaction. `mailFrom` is '' for the null sender (RFC 5321 §4.5.5). */
export interface Envelope {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  /**
   * MAIL FROM parameters (upper-case names, xtext-decoded values, `true` for a bare keyword), e.g.
   * `AUTH` (RFC 4954 §5): what the client *claims*; trust it only from trusted clients.
   */
  readonly mailParams?: Readonly<Record<string, string | boolean>>;
}

/** What every check can see of the session. Immutable views; front-ends own the state. */
export interface SessionView {
  /** Stable id for logs and history. */
  readonly id: string;
  readonly client: ClientInfo;
  readonly helo?: string;
  readonly envelope: Envelope;
  /** At the rcpt stage: the recipient being checked. */
  readonly currentRcpt?: string;
  /** At the data stage: the message exactly as received (CRLF line endings, not dot-stuffed). */
  readonly message?: Buffer;
  /** Which front-end fed the session: smtp proxy, milter, or scan CLI. */
  readonly frontend: 'smtp' | 'milter' | 'scan';
}

export interface CheckContext {
  readonly stage: Stage;
  readonly session: SessionView;
  readonly facts: Facts;
  /** Aborts at the check's deadline or when the session ends: pass it to every outbound call. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Report a symbol. It must be one of the check's declared symbols. */
  emit(symbol: string, options?: readonly string[], weight?: number): void;
  /**
   * Force an action regardless of score: allow/block lists, rate limits, fail-closed stores.
   * Rare and logged. Before DATA a forced reject/tempfail/greylist stops the command at once;
   * a forced accept skips scoring. `reply` overrides the reply table (e.g. a `421` that closes).
   */
  force(action: Action, reason: string, reply?: ForcedReply): void;
}

export interface ForcedReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
  readonly close?: boolean;
}

export interface Check {
  /** Name = config key = log field = metric label (ARCHITECTURE habit 7). lower_snake. */
  readonly name: string;
  readonly stage: Stage;
  readonly symbols: readonly SymbolDef[];
  /** Names of checks (same or earlier stage) whose facts this check reads. */
  readonly dependsOn?: readonly string[];
  /** Deadline for one run, shorter than the SMTP command timeout. */
  readonly timeoutMs: number;
  run(ctx: CheckContext): Promise<void> | void;
}

/** The outcome of scoring a transaction. */
export interface Verdict {
  readonly action: Action;
  readonly score: number;
  /** Score at which the message counts as spam (the tag threshold), as in SpamAssassin's `required`. */
  readonly required: number;
  readonly symbols: readonly SymbolResult[];
  /** Set when an allow/block list or an engine fault forced the action regardless of score. */
  readonly forced?: { readonly by: string; readonly reason: string };
  /** Short human text for the SMTP reply and logs. */
  readonly reason?: string;
}
