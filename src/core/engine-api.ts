/**
 * The contract between front-ends (SMTP proxy, milter, scan CLI) and the verdict engine.
 *
 * A front-end opens one FilterSession per client connection and feeds it the SMTP stages in order.
 * Each stage answers `continue` or a Decision that the front-end translates into protocol text at
 * its own edge (SMTP replies via core/replies.ts, milter responses via its own table).
 */
import type { Action, ClientInfo, Facts, SessionView, SymbolDef, Verdict } from './types.js';

/** A decision to stop the command at this stage. */
export interface StageDecision {
  readonly action: Exclude<Action, 'accept' | 'tag'>;
  /** Short reason for the reply text and logs (no protocol codes here). */
  readonly reason: string;
  /**
   * Optional exact reply chosen by a check with protocol meaning (e.g. a rate limit that must be
   * `421` to close the session). Front-ends fall back to the reply table when absent.
   */
  readonly reply?: { readonly code: number; readonly enhanced: string; readonly text: string; readonly close?: boolean };
}

export type StageResult = { readonly action: 'continue' } | StageDecision;

export const CONTINUE: StageResult = Object.freeze({ action: 'continue' as const });

/** What to do with the message after the data stage. */
export interface DataResult {
  readonly verdict: Verdict;
  /**
   * Header lines to prepend, each a complete field without the trailing CRLF
   * (e.g. `X-Spam-Flag: YES`). Trace fields such as Authentication-Results come first.
   */
  readonly prependHeaders: readonly string[];
  /**
   * Incoming header fields to remove before relaying (e.g. X-Spam-* a sender pre-set, or
   * Authentication-Results claiming our authserv-id, RFC 8601 §5). `name` is lower-case.
   */
  readonly removeHeader: (name: string, value: string) => boolean;
  /** New Subject value when the tag action rewrites the subject, else undefined. */
  readonly newSubject?: string;
}

export interface FilterSession {
  readonly id: string;
  connect(client: ClientInfo): Promise<StageResult>;
  helo(name: string): Promise<StageResult>;
  /** `from` is '' for the null sender. `args` are ESMTP parameters, upper-cased keys. */
  mail(from: string, args: Readonly<Record<string, string | boolean>>): Promise<StageResult>;
  rcpt(to: string): Promise<StageResult>;
  /** Whole message as received (CRLF, not dot-stuffed). */
  data(message: Buffer): Promise<DataResult>;
  /** The downstream's final answer for the message, for history, reputation and logs. */
  delivered(outcome: { readonly accepted: boolean; readonly code: number; readonly text: string }): void;
  /** RSET or end of transaction: forget envelope and per-message state. */
  reset(): void;
  /** Connection closed. */
  close(): void;
  /**
   * The client's forward-confirmed reverse DNS name (RFC 8601 iprev, the `fcrdns` check's `rdns`
   * fact) once the connect stage verified one; undefined when none was verified (no PTR, no
   * match, DNS failure, check off). Front-ends pass it on as XFORWARD/XCLIENT NAME. Optional:
   * engines without DNS checks need not implement it.
   */
  verifiedClientName?(): string | undefined;
}

export interface FilterEngine {
  open(frontend: 'smtp' | 'milter' | 'scan', sessionId?: string): FilterSession;
}

/**
 * Post-verdict hook (e.g. greylisting): may change the data-stage verdict before tagging.
 * Registered via the engine's options; run in registration order, never for a forced verdict
 * (allow/block lists, rate limits stay final). A modifier that throws is logged and skipped (the
 * verdict stands).
 */
export interface VerdictModifier {
  readonly name: string;
  /** Only called for verdicts with one of these actions (all when absent); greylisting uses ['greylist']. */
  readonly appliesTo?: readonly Action[];
  /** Symbols it may add to verdicts (score 0 notes such as GREYLIST_PASS), listed by `spamgate symbols`. */
  readonly symbols?: readonly SymbolDef[];
  adjust(session: SessionView, verdict: Verdict, facts: Facts): Promise<Verdict>;
}

/** What finally happened to a transaction's message. */
export interface TransactionOutcome {
  readonly accepted: boolean;
  readonly code: number;
  readonly text: string;
}

/**
 * Called once per transaction that reached a data-stage verdict: after `delivered()` for relayed
 * mail, or at once when the verdict refuses the message (reject/greylist/tempfail); and once per
 * command refused before DATA by a forced action (block list, rate limit), with a forced verdict
 * and, at RCPT, the refused recipient last in `rcptTo`. Used by reputation (which ignores forced
 * verdicts) and history. Fire-and-forget: errors are logged, never reach the client.
 */
export interface TransactionObserver {
  readonly name: string;
  onTransaction(session: SessionView, verdict: Verdict, outcome: TransactionOutcome, facts: Facts): Promise<void> | void;
}
