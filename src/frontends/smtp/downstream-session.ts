/**
 * The downstream side of one client connection: one DownstreamConnection, opened at the first
 * MAIL and reused across transactions (RSET between them), with the client's identity passed on
 * by XCLIENT (once per connection) and XFORWARD (before every MAIL).
 */
import type { Logger } from 'pino';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Config } from '../../config/schema.js';
import { DownstreamConnection, DownstreamError, type DownstreamOptions } from './downstream-client.js';
import { replyText, type SmtpServerReply } from './smtp-reply-reader.js';
import { buildIdentityCommands, xtext, type ClientIdentity } from './xforward.js';
import { cidrMatcher } from '../../store/ipnet.js';

export class DownstreamSession {
  private conn: DownstreamConnection | undefined;
  private xclientSent = false;
  /** The XFORWARD lines for the current client identity (the same for every transaction). */
  private xforwardCache: { key: string; lines: string[] } | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** A usable connection exists (the last command did not fail). */
  get open(): boolean {
    return this.conn?.usable === true;
  }

  /**
   * (Re)connect if needed, RSET first when a transaction is open, XCLIENT/XFORWARD, MAIL.
   * Returns the MAIL reply; throws DownstreamError when the downstream is unusable.
   */
  async mail(session: SMTPServerSession, addr: SMTPServerAddress, rsetFirst: boolean, clientName?: string): Promise<SmtpServerReply> {
    const reused = this.open;
    try {
      return await this.sendMail(session, addr, rsetFirst && reused, clientName);
    } catch (e) {
      // A reused connection the downstream closed while idle (its own timeout): retry once on a
      // fresh one. Nothing of this transaction was accepted yet, so a retry cannot duplicate.
      if (!reused || !(e instanceof DownstreamError) || e.kind !== 'drop') throw e;
      this.drop();
      return this.sendMail(session, addr, false, clientName);
    }
  }

  rcpt(address: string): Promise<SmtpServerReply> {
    if (!this.conn) return Promise.reject(new DownstreamError('drop', 'no downstream connection'));
    return this.conn.command(`RCPT TO:<${address}>`);
  }

  data(parts: readonly Buffer[]): Promise<{ reply: SmtpServerReply; bytes: number }> {
    // The client may have gone while the engine ran (close() dropped the connection).
    if (!this.conn) return Promise.reject(new DownstreamError('drop', 'session closed before relaying'));
    return this.conn.data(parts);
  }

  /**
   * Abandon the open transaction (RSET, awaited so the next MAIL is not pipelined behind it
   * unasked); the connection stays for the next transaction, or is dropped if RSET fails.
   */
  async rset(): Promise<void> {
    const c = this.conn;
    if (!c?.usable) return;
    try {
      const r = await c.command('RSET');
      if (r.code !== 250) throw new DownstreamError('protocol', `downstream refused RSET: ${r.code}`);
    } catch {
      if (this.conn === c) this.drop();
    }
  }

  /** Forget the connection at once (after a failure). */
  drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }

  /** Client connection closed: QUIT politely. */
  quit(): void {
    this.conn?.quit();
    this.conn = undefined;
  }

  private async sendMail(session: SMTPServerSession, addr: SMTPServerAddress, rset: boolean, clientName: string | undefined): Promise<SmtpServerReply> {
    const cfg = this.config;
    let ds = this.conn;
    if (!ds || !ds.usable) {
      ds?.destroy();
      ds = this.conn = await DownstreamConnection.open(downstreamOptions(cfg));
      this.xclientSent = false;
      rset = false;
    }
    const identity: ClientIdentity = {
      addr: session.remoteAddress,
      port: session.remotePort,
      ...(clientName ? { name: clientName } : {}),
      ...(session.hostNameAppearsAs ? { helo: session.hostNameAppearsAs } : {}),
      proto: session.openingCommand === 'EHLO' ? 'ESMTP' : 'SMTP',
      ident: session.id,
      destAddr: session.localAddress,
      destPort: session.localPort,
    };
    if (rset) {
      const r = await ds.command('RSET');
      if (r.code !== 250) throw new DownstreamError('protocol', `downstream refused RSET: ${r.code}`);
    }
    // XCLIENT: once per downstream connection, between transactions, then EHLO again (XCLIENT_README).
    if (cfg.downstream.xclient && !this.xclientSent && ds.caps.has('XCLIENT')) {
      this.xclientSent = true;
      for (const line of buildIdentityCommands('xclient', identity, ds.caps.get('XCLIENT') ?? [])) {
        const r = await ds.command(line);
        if (r.code !== 220) {
          this.log.warn({ downstream: `${r.code} ${replyText(r)}` }, 'downstream refused XCLIENT (smtpd_authorized_xclient_hosts?); relaying without it');
          break;
        }
        // The 220 is a new greeting: the session restarts, EHLO again — with the client's HELO
        // name, as XCLIENT_README's example does: Postfix takes the name of this EHLO as the
        // session's HELO, replacing XCLIENT HELO= (seen with Postfix 3.7: its Received line named
        // us, not the client, and HELO restrictions read that same name; postfix-real.test.ts).
        await ds.ehlo(ehloName(identity.helo) ?? ds.opts.helo);
      }
    }
    const lines: string[] = [];
    // XFORWARD is reset after each transaction, so it goes before every MAIL (XFORWARD_README).
    if (cfg.downstream.xforward && ds.caps.has('XFORWARD')) {
      const key = `${identity.addr} ${identity.port} ${identity.name ?? ''} ${identity.helo ?? ''} ${identity.proto}`;
      if (this.xforwardCache?.key !== key) this.xforwardCache = { key, lines: buildIdentityCommands('xforward', identity, ds.caps.get('XFORWARD') ?? []) };
      lines.push(...this.xforwardCache.lines);
    }
    lines.push(mailCommand(addr, ds, ds.caps.has('AUTH') && trustAuthMatcher(cfg.upstream.trustAuthFrom)(session.remoteAddress)));
    // One write when the downstream offers PIPELINING (RFC 2920).
    const replies = await ds.pipeline(lines);
    for (const r of replies.slice(0, -1)) {
      if (r.code !== 250) this.log.warn({ downstream: `${r.code} ${replyText(r)}` }, 'downstream refused XFORWARD (smtpd_authorized_xforward_hosts?)');
    }
    return replies[replies.length - 1]!;
  }
}

export function downstreamOptions(cfg: Config): DownstreamOptions {
  const d = cfg.downstream;
  return {
    host: d.host,
    port: d.port,
    tls: d.tls,
    tlsVerify: d.tlsVerify,
    helo: d.helo ?? cfg.hostname,
    connectTimeoutMs: d.connectTimeoutMs,
    commandTimeoutMs: d.commandTimeoutMs,
    dataTimeoutMs: d.dataTimeoutMs,
    chunking: d.chunking,
  };
}

/**
 * The client's HELO name if it can stand as an EHLO argument as is: one token of printable ASCII
 * (RFC 5321 §4.1.1.1 domain or address literal; smtp-server passes on whatever text the client
 * gave). Otherwise our own name is used and XCLIENT HELO= is the only place the client's is sent.
 */
function ehloName(helo: string | undefined): string | undefined {
  return helo !== undefined && /^[\x21-\x7e]{1,255}$/.test(helo) ? helo : undefined;
}

/**
 * Clients trusted to assert MAIL FROM `AUTH=<mailbox>` (RFC 4954 §5): `upstream.trustAuthFrom`,
 * the list the per-login rate limit believes too. One matcher per configuration (the list's array
 * is replaced on reload), not one per client connection.
 */
const trustAuthMatchers = new WeakMap<readonly string[], (ip: string) => boolean>();
function trustAuthMatcher(list: readonly string[]): (ip: string) => boolean {
  let m = trustAuthMatchers.get(list);
  if (!m) trustAuthMatchers.set(list, (m = cidrMatcher(list)));
  return m;
}

/**
 * MAIL FROM with the client's ESMTP parameters the downstream also supports (RFC 1870, 6152, 6531),
 * and AUTH= (RFC 4954 §5) when the downstream offers AUTH; `trusted`: the client may assert AUTH=.
 */
function mailCommand(addr: SMTPServerAddress, ds: Pick<DownstreamConnection, 'caps'>, trusted: boolean): string {
  const args = addr.args || {};
  let line = `MAIL FROM:<${addr.address}>`;
  const size = args.SIZE;
  if (typeof size === 'string' && /^\d+$/.test(size) && ds.caps.has('SIZE')) line += ` SIZE=${size}`;
  const body = typeof args.BODY === 'string' ? args.BODY.toUpperCase() : undefined;
  if ((body === '8BITMIME' || body === '7BIT') && ds.caps.has('8BITMIME')) line += ` BODY=${body}`;
  if (args.SMTPUTF8 && ds.caps.has('SMTPUTF8')) line += ' SMTPUTF8';
  // RFC 4954 §5: AUTH= is a parameter of the AUTH extension, sent only to a server offering it
  // (a downstream without AUTH would answer 555, RFC 5321 §4.1.1.11).
  if (ds.caps.has('AUTH')) line += ` AUTH=${authMailbox(args.AUTH, trusted)}`;
  return line;
}

/**
 * The xtext value (RFC 3461 §4) of the AUTH= we pass on. RFC 4954 §5: the submitter a trusted
 * client named is passed on unchanged ("SHOULD supply the same <mailbox>"); a client we do not
 * trust, or one that named none (we offer no SMTP AUTH ourselves, so a client without AUTH= is
 * not an authenticated one), gets `<>`: "the server MUST behave as if the AUTH=<> parameter was
 * supplied", and the relay must not pass on an identity it does not vouch for.
 *
 * smtp-server has already decoded the client's xtext (`+HH` → one character per octet), so the
 * value is encoded again. A value with characters outside printable ASCII (plus space) is sent as
 * `<>`: smtp-server decodes `+C3+A9` to two Latin-1 characters while raw UTF-8 arrives as one code
 * point, so the client's octets cannot be recovered for certain, and an identity we cannot repeat
 * exactly is not one to vouch for.
 */
function authMailbox(value: unknown, trusted: boolean): string {
  if (!trusted || typeof value !== 'string') return '<>';
  if (value === '<>' || value === '' || !/^[\x20-\x7e]+$/.test(value)) return '<>';
  return xtext(value);
}
