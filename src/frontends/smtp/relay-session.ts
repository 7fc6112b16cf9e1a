/**
 * One client connection's relay: drives the engine session stage by stage and the downstream
 * connection command by command (Postfix SMTPD_PROXY_README, FIELD-NOTES §2).
 *
 * The promise: the client gets 250 for its message only after the downstream's 2xx for it.
 * - MAIL: (re)connect downstream, XCLIENT once per connection, XFORWARD + MAIL pipelined.
 * - RCPT: engine first, then relayed live; the downstream's own code and text go back.
 * - DATA: validate (bare CR/LF, NUL, size), engine verdict, then relay with our headers and the
 *   downstream's final reply decides: 2xx → 250, 4xx/5xx → the same code; unreachable,
 *   timeout, drop → 451 4.4.1.
 * One downstream connection per client connection, reused across transactions with RSET.
 */
import type { Logger } from 'pino';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Config } from '../../config/schema.js';
import type { DataResult, FilterSession, StageResult } from '../../core/engine-api.js';
import type { ClientInfo } from '../../core/types.js';
import { REPLIES } from '../../core/replies.js';
import type { Metrics } from '../../metrics/metrics.js';
import { DownstreamError } from './downstream-client.js';
import { DownstreamSession } from './downstream-session.js';
import { type SmtpServerReply, replyText } from './smtp-reply-reader.js';
import { fromDecision, fromDownstream, fromTable, type ClientReply } from './client-reply.js';
import { LineEndingValidator } from './data-validator.js';
import { rewriteHeaders } from './header-rewrite.js';
import { receivedFor, receivedTrace } from './received-header.js';
import { logTransaction, newTransaction, type Transaction, type TransactionInfo } from './transaction-log.js';

export type HookResult =
  | {
      readonly ok: true;
      readonly text?: string;
      /** End of DATA only: the downstream's multi-line 250, line for line (client-reply.ts acceptedWithLines). */
      readonly lines?: readonly string[];
    }
  | { readonly ok: false; readonly reply: ClientReply };

export interface RelayDeps {
  readonly config: Config;
  readonly engine: FilterSession;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** True once SIGTERM asked us to drain: no new transactions. */
  readonly draining: () => boolean;
}

const OK: HookResult = { ok: true };
const unavailable = (): HookResult => ({ ok: false, reply: fromTable(REPLIES.downstreamUnavailable) });

export class RelaySession {
  private readonly ds: DownstreamSession;
  private tx: Transaction | undefined;
  private heloSeen: string | undefined;
  /** Our Received field up to `id …`, kept while client name, HELO and protocol stay the same. */
  private trace: { key: string; value: string } | undefined;
  /** A hook is running (draining waits for it). */
  busy = false;

  constructor(private readonly deps: RelayDeps) {
    this.ds = new DownstreamSession(deps.config, deps.log);
  }

  /** Between transactions and not in a command: safe to close during a drain. */
  get idle(): boolean {
    return !this.busy && !this.tx;
  }

  async connect(session: SMTPServerSession): Promise<HookResult> {
    // Behind a Postfix smtpd_proxy_filter the real client arrives with XFORWARD before MAIL:
    // the engine's connect stage waits for it (see mail()).
    if (this.deps.config.upstream.xforwardFrom.includes(session.remoteAddress)) {
      this.connectDeferred = true;
      return OK;
    }
    return this.engineConnect(session);
  }

  /** connect() postponed until the upstream MTA's XFORWARD named the client. */
  private connectDeferred = false;

  private async engineConnect(session: SMTPServerSession): Promise<HookResult> {
    const upstream = upstreamName(session);
    const client: ClientInfo = {
      ip: session.remoteAddress,
      port: session.remotePort,
      // Only a name an upstream MTA gave us (XFORWARD NAME); we do no reverse lookup ourselves.
      ...(upstream ? { hostname: upstream } : {}),
      localIp: session.localAddress,
      localPort: session.localPort,
      tls: session.secure,
    };
    const r = await this.stage(() => this.deps.engine.connect(client));
    // RFC 5321 §3.1/§4.2.3: a server refusing service at the greeting answers 554, not 550.
    if (!r.ok && r.reply.code === 550) return { ok: false, reply: { ...r.reply, code: 554 } };
    return r;
  }

  async mail(addr: SMTPServerAddress, session: SMTPServerSession): Promise<HookResult> {
    const { engine, metrics } = this.deps;
    if (this.deps.draining()) return { ok: false, reply: fromTable(REPLIES.shuttingDown) };
    // smtp-server refuses a nested MAIL, so an open transaction here means RSET/EHLO came first.
    const resetFirst = this.tx !== undefined;
    if (resetFirst) this.endTransaction('reset');

    if (this.connectDeferred) {
      this.connectDeferred = false;
      const c = await this.engineConnect(session);
      if (!c.ok) return c;
    }
    const helo = session.hostNameAppearsAs || undefined;
    if (helo !== undefined && helo !== this.heloSeen) {
      this.heloSeen = helo;
      const h = await this.stage(() => engine.helo(helo));
      if (!h.ok) return h;
    }
    const args = addr.args || {};
    const m = await this.stage(() => engine.mail(addr.address, args));
    if (!m.ok) return m;

    const tx = newTransaction(addr.address);
    const t0 = performance.now();
    let reply: SmtpServerReply;
    try {
      reply = await this.ds.mail(session, addr, resetFirst, this.clientName(session));
    } catch (e) {
      this.downstreamFailed(e, 'mail');
      engine.reset();
      return unavailable();
    }
    tx.timings.mailMs = round(performance.now() - t0);
    metrics.downstreamReplies.inc({ command: 'mail', class: classOf(reply.code) });
    if (reply.code >= 200 && reply.code < 300) {
      this.tx = tx;
      return OK;
    }
    engine.reset();
    return this.refusal(reply);
  }

  async rcpt(addr: SMTPServerAddress): Promise<HookResult> {
    const { engine, metrics } = this.deps;
    const tx = this.tx;
    if (!tx || !this.ds.open) return unavailable();
    const r = await this.stage(() => engine.rcpt(addr.address));
    if (!r.ok) {
      tx.rejectedRcpts.push({ rcpt: addr.address, code: r.reply.code });
      return r;
    }
    let reply: SmtpServerReply;
    try {
      reply = await this.ds.rcpt(addr.address);
    } catch (e) {
      this.downstreamFailed(e, 'rcpt');
      return unavailable();
    }
    metrics.downstreamReplies.inc({ command: 'rcpt', class: classOf(reply.code) });
    if (reply.code >= 200 && reply.code < 300) {
      tx.rcptTo.push(addr.address);
      return OK;
    }
    tx.rejectedRcpts.push({ rcpt: addr.address, code: reply.code });
    return this.refusal(reply);
  }

  /**
   * The client's message. Reads the whole stream (smtp-server sends our reply only after the dot),
   * keeping at most limits.maxMessageSize bytes in memory.
   */
  async data(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<HookResult> {
    const { config, metrics, engine } = this.deps;
    const tx = this.tx;
    const max = config.limits.maxMessageSize;
    const validator = new LineEndingValidator();
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const tRecv = performance.now();
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (over) return;
        if (size > max || stream.sizeExceeded) {
          // Keep draining (smtp-server needs the dot) but stop holding bytes: memory stays bounded.
          over = true;
          chunks.length = 0;
          return;
        }
        validator.push(chunk);
        if (!validator.problem) chunks.push(chunk);
      });
      stream.once('end', resolve);
      stream.once('error', () => resolve());
    });
    metrics.bytesIn.inc(size);
    metrics.messageSize.observe(size);
    if (!tx || !this.ds.open) {
      // The downstream went away during the transaction (already counted and logged at the time).
      if (tx) this.endTransaction('downstream-failed', { action: 'tempfail', size, reply: fromTable(REPLIES.downstreamUnavailable) });
      return unavailable();
    }
    tx.timings.receiveMs = round(performance.now() - tRecv);

    if (over) {
      metrics.protocolRejects.inc({ reason: 'size' });
      return this.finishLocal(fromTable(REPLIES.tooBig), { action: 'reject', reason: 'size', size });
    }
    const problem = validator.finish();
    if (problem) {
      metrics.protocolRejects.inc({ reason: problem.replace('-', '_') });
      return this.finishLocal(fromTable(REPLIES.badLineEndings), { action: 'reject', reason: problem, size });
    }

    const message = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const tEngine = performance.now();
    let result: DataResult;
    try {
      result = await engine.data(message);
    } catch (e) {
      this.deps.log.error({ err: e }, 'engine failed at data');
      return this.finishLocal(fromTable(REPLIES.tempfail), { action: 'tempfail', reason: 'engine error', size });
    }
    tx.timings.engineMs = round(performance.now() - tEngine);
    const v = result.verdict;
    metrics.verdictScore.observe(v.score);
    if (v.action === 'reject' || v.action === 'greylist' || v.action === 'tempfail') {
      // No delivered() here: the engine already knows it refused (engine-api TransactionObserver).
      const reply = fromDecision({ action: v.action, reason: v.reason ?? '' });
      return this.finishLocal(reply, { action: v.action, size, verdict: v });
    }

    const received = this.receivedTrace(session) + receivedFor(tx.rcptTo, new Date());
    const parts = rewriteHeaders(message, {
      prepend: [...result.prependHeaders, received],
      removeHeader: result.removeHeader,
      ...(result.newSubject !== undefined ? { newSubject: result.newSubject } : {}),
    });

    const tRelay = performance.now();
    let final: SmtpServerReply;
    try {
      const r = await this.ds.data(parts);
      final = r.reply;
      metrics.bytesOut.inc(r.bytes);
    } catch (e) {
      this.downstreamFailed(e, 'data');
      const reply = fromTable(REPLIES.downstreamUnavailable);
      engine.delivered({ accepted: false, code: reply.code, text: reply.text });
      this.endTransaction('downstream-failed', { action: v.action, size, verdict: v, reply });
      return { ok: false, reply };
    }
    tx.timings.relayMs = round(performance.now() - tRelay);
    metrics.downstreamReplies.inc({ command: 'data', class: classOf(final.code) });
    const accepted = final.code >= 200 && final.code < 300;
    const finalText = replyText(final);
    engine.delivered({ accepted, code: final.code, text: finalText });
    // Accepted: 250 (the only success code after DATA, RFC 5321 §4.3.2) with the downstream's own
    // text, line for line when it sent several (RFC 5321 §4.2.1; the client may show them, e.g.
    // a queue id on one line and a note on another). smtp-server cannot write a multi-line 250
    // from onData's success path: see client-reply.ts acceptedWithLines for the path it takes.
    const clientReply = accepted ? { ...fromDownstream(final), code: 250 } : final.code >= 400 ? fromDownstream(final) : fromTable(REPLIES.downstreamUnavailable);
    metrics.messages.inc({ action: accepted ? v.action : 'downstream_refused', frontend: 'smtp' });
    this.endTransaction(accepted ? 'delivered' : 'refused', { action: v.action, size, verdict: v, reply: clientReply, downstream: final });
    if (!accepted) return { ok: false, reply: clientReply };
    return clientReply.lines ? { ok: true, text: clientReply.text, lines: clientReply.lines } : { ok: true, text: finalText };
  }

  /** Connection closed. */
  close(): void {
    if (this.tx) this.endTransaction('client-closed');
    this.deps.engine.close();
    this.ds.quit();
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The client's host name for XFORWARD/XCLIENT NAME and our Received line: the name the engine's
   * FCrDNS check forward-confirmed, else the one an upstream MTA forwarded (its own verified name,
   * smtpd_proxy_filter mode), else none ([UNAVAILABLE], Postfix XFORWARD_README). Never an
   * unconfirmed PTR name: Postfix treats NAME as verified (reject_unknown_client_hostname).
   */
  private clientName(session: SMTPServerSession): string | undefined {
    return this.deps.engine.verifiedClientName?.() ?? upstreamName(session);
  }

  /** `Received: from … id …` for this session, rebuilt only when one of its inputs changed. */
  private receivedTrace(session: SMTPServerSession): string {
    const helo = session.hostNameAppearsAs || undefined;
    const name = this.clientName(session);
    const esmtp = session.openingCommand === 'EHLO';
    const smtpUtf8 = session.envelope.smtpUtf8 === true;
    const key = `${helo}\0${name}\0${session.remoteAddress}\0${esmtp}${session.secure}${smtpUtf8}`;
    if (this.trace?.key !== key) {
      const value = receivedTrace({
        ...(helo !== undefined ? { helo } : {}),
        clientIp: session.remoteAddress,
        ...(name ? { clientHostname: name } : {}),
        hostname: this.deps.config.hostname,
        esmtp,
        tls: session.secure,
        smtpUtf8,
        id: session.id,
      });
      this.trace = { key, value };
    }
    return this.trace.value;
  }

  /** Run an engine stage; an engine fault becomes a tempfail (ARCHITECTURE failure policy). */
  private async stage(fn: () => Promise<StageResult>): Promise<HookResult> {
    let r: StageResult;
    try {
      r = await fn();
    } catch (e) {
      this.deps.log.error({ err: e }, 'engine stage failed');
      return { ok: false, reply: fromTable(REPLIES.tempfail) };
    }
    return r.action === 'continue' ? OK : { ok: false, reply: fromDecision(r) };
  }

  /** A downstream 4xx/5xx passed back as is; anything else (3xx, 1xx) means we lost sync: 451. */
  private refusal(reply: SmtpServerReply): HookResult {
    return reply.code >= 400 && reply.code < 600 ? { ok: false, reply: fromDownstream(reply) } : unavailable();
  }

  private downstreamFailed(e: unknown, command: string): void {
    const kind = e instanceof DownstreamError ? e.kind : 'error';
    this.deps.metrics.downstreamFailures.inc({ kind });
    this.deps.log.warn({ err: { message: (e as Error).message, kind }, command }, 'downstream unavailable');
    this.ds.drop();
  }

  /** We answer the message ourselves (size, line endings, verdict): abandon the downstream transaction. */
  private async finishLocal(reply: ClientReply, info: TransactionInfo): Promise<HookResult> {
    this.deps.metrics.messages.inc({ action: info.action, frontend: 'smtp' });
    this.endTransaction('refused-local', { ...info, reply });
    // The downstream forgets the envelope; its connection stays for the next transaction.
    await this.ds.rset();
    return { ok: false, reply };
  }

  private endTransaction(outcome: string, info?: TransactionInfo): void {
    const tx = this.tx;
    this.tx = undefined;
    this.deps.engine.reset();
    if (!tx) return;
    this.deps.metrics.transactionDuration.observe((Date.now() - tx.started) / 1000);
    logTransaction(this.deps.log, outcome, tx, this.heloSeen, info);
  }
}

/** The name an upstream MTA gave with XFORWARD NAME; smtp-server's `[ip]` placeholder is none. */
function upstreamName(session: SMTPServerSession): string | undefined {
  const n = session.clientHostname;
  return n && !n.startsWith('[') ? n : undefined;
}

function classOf(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
