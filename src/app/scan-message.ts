/**
 * One message through the engine, offline, exactly as the SMTP front-end would feed it
 * (connect → helo → mail → rcpt… → data, frontend `scan`). Used by `spamgate scan` and the
 * benchmark.
 *
 * Recipients are grouped by per-domain policy and each group runs as its own transaction, as a
 * client would after our `452 4.5.3` (core/policy.ts); the result is the strictest verdict. A stage
 * decision (e.g. a block list at connect, a refused recipient) still yields a verdict: its action
 * wins when it is stricter than the data-stage verdict.
 */
import addressparser from 'nodemailer/lib/addressparser';
import type { Engine, EngineSession } from '../core/engine.js';
import type { StageResult } from '../core/engine-api.js';
import { firstHeaderValue } from '../core/header-field.js';
import type { ClientInfo, Verdict } from '../core/types.js';
import { ACTION_SEVERITY } from '../core/verdict.js';

export interface ScanOptions {
  /** Client IP; default 127.0.0.1 (a local scan, like spamc). */
  readonly ip?: string;
  /** HELO name; default `localhost`. */
  readonly helo?: string;
  /** Envelope sender ('' = null sender); default Return-Path, else From of the message, else ''. */
  readonly from?: string;
  /** Recipients; default the addresses in To (none: no RCPT stage, global policy). */
  readonly rcpts?: readonly string[];
}

export interface ScanResult {
  readonly verdict: Verdict;
  /** Facts of the transaction that gave the verdict (SPF, DKIM … for `"auth"`). */
  readonly facts: Record<string, unknown>;
  readonly envelope: { readonly ip: string; readonly helo: string; readonly from: string; readonly rcpts: readonly string[] };
}

/**
 * File bytes → the message as SMTP would deliver it: an mbox `From ` separator line is dropped and
 * line endings become CRLF (RFC 5322 §2.1; the corpus and most files on disk are LF-only).
 */
export function normalizeMessage(raw: Buffer): Buffer {
  let start = 0;
  if (raw.subarray(0, 5).toString('latin1') === 'From ') {
    const nl = raw.indexOf(0x0a);
    start = nl < 0 ? raw.length : nl + 1;
  }
  const body = raw.subarray(start);
  if (body.indexOf(0x0a) < 0) return Buffer.from(body);
  // latin1 maps every byte to one char and back, so 8-bit content survives unchanged.
  return Buffer.from(body.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

function addressesIn(message: Buffer, header: string): string[] {
  const v = firstHeaderValue(message, header);
  if (!v) return [];
  return addressparser(v, { flatten: true })
    .map((a) => a.address.trim())
    .filter((a) => a.includes('@'));
}

/** Return-Path is `<addr>` or `<>` (RFC 5322 §3.6.7); no need for the full address parser. */
function returnPath(message: Buffer): string | undefined {
  const v = firstHeaderValue(message, 'return-path');
  if (v === undefined) return undefined;
  const m = /<([^<>]*)>/.exec(v);
  const a = (m ? m[1]! : v).trim();
  return a.includes('@') ? a : undefined;
}

/** Envelope defaults documented on ScanOptions. */
export function envelopeFor(message: Buffer, opts: ScanOptions): ScanResult['envelope'] {
  const from = opts.from ?? returnPath(message) ?? addressesIn(message, 'from')[0] ?? '';
  const rcpts = opts.rcpts && opts.rcpts.length ? [...opts.rcpts] : addressesIn(message, 'to');
  return { ip: opts.ip ?? '127.0.0.1', helo: opts.helo ?? 'localhost', from, rcpts };
}

export async function scanMessage(engine: Engine, message: Buffer, opts: ScanOptions = {}): Promise<ScanResult> {
  const env = envelopeFor(message, opts);
  const groups = new Map<string, string[]>();
  for (const r of env.rcpts) {
    const key = engine.policies.forRecipient(r).key;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (groups.size === 0) groups.set('*', []);

  let best: { verdict: Verdict; facts: Record<string, unknown> } | undefined;
  for (const rcpts of groups.values()) {
    const r = await oneTransaction(engine, message, env, rcpts);
    if (!best || ACTION_SEVERITY[r.verdict.action] > ACTION_SEVERITY[best.verdict.action]) best = r;
  }
  return { ...best!, envelope: env };
}

async function oneTransaction(engine: Engine, message: Buffer, env: ScanResult['envelope'], rcpts: readonly string[]) {
  const s: EngineSession = engine.open('scan');
  let decision: Exclude<StageResult, { action: 'continue' }> | undefined;
  const note = (r: StageResult) => {
    if (r.action !== 'continue' && (!decision || ACTION_SEVERITY[r.action] > ACTION_SEVERITY[decision.action])) decision = r;
  };
  try {
    const client: ClientInfo = { ip: env.ip, port: 0, tls: false };
    note(await s.connect(client));
    note(await s.helo(env.helo));
    note(await s.mail(env.from, {}));
    for (const r of rcpts) note(await s.rcpt(r));
    let { verdict } = await s.data(message);
    if (decision && ACTION_SEVERITY[decision.action] > ACTION_SEVERITY[verdict.action]) {
      verdict = { ...verdict, action: decision.action, reason: decision.reason, forced: verdict.forced ?? { by: 'stage', reason: decision.reason } };
    }
    return { verdict, facts: s.factsSnapshot() };
  } finally {
    s.close();
  }
}
