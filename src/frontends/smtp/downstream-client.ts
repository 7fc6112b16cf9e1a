/**
 * A small purpose-built SMTP client for the downstream MTA.
 *
 * Why not nodemailer: its SMTPConnection only sends whole envelopes (MAIL, every RCPT and DATA in
 * one `send()`), with no public per-command API, so a downstream refusal of one recipient could
 * not be passed back to our client at its RCPT (FIELD-NOTES §2, measured). It also has no XFORWARD
 * or XCLIENT. A before-queue proxy must relay command by command (Postfix SMTPD_PROXY_README).
 *
 * Every wait has a deadline (downstream.*TimeoutMs); a timeout, a drop or a protocol error
 * becomes a DownstreamError and the connection is destroyed: the caller answers 451 4.4.1.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SmtpReplyReader, ReplyProtocolError, type SmtpServerReply } from './smtp-reply-reader.js';
import { dotStuff } from './dot-stuff.js';

export type DownstreamFailure = 'connect' | 'timeout' | 'drop' | 'protocol' | 'tls' | 'greeting';

export class DownstreamError extends Error {
  readonly kind: DownstreamFailure;
  constructor(kind: DownstreamFailure, message: string) {
    super(message);
    this.name = 'DownstreamError';
    this.kind = kind;
  }
}

export interface DownstreamOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: 'off' | 'opportunistic' | 'required';
  readonly tlsVerify: boolean;
  /** Name for our EHLO. */
  readonly helo: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly dataTimeoutMs: number;
  /** Use BDAT when the downstream offers CHUNKING (RFC 3030). */
  readonly chunking?: boolean;
}

interface Waiter {
  resolve(r: SmtpServerReply): void;
  reject(e: DownstreamError): void;
  /** How long the downstream may take for this reply, counted from when it became the oldest outstanding one. */
  timeoutMs: number;
}

export class DownstreamConnection {
  /** EHLO keywords (upper-case) → parameters. */
  caps = new Map<string, string[]>();
  tls = false;
  private socket: net.Socket;
  private reader = new SmtpReplyReader();
  private waiters: Waiter[] = [];
  /**
   * Reply deadlines: one reusable Timeout per distinct timeout value (command, data), always for
   * the oldest outstanding reply, re-armed with refresh() when that changes. Cheaper than a new
   * setTimeout/clearTimeout pair per command (5 per message); a timer that fires for a reply that
   * already came (or for another timeout value than the oldest reply's) does nothing.
   */
  private readonly deadlines = new Map<number, NodeJS.Timeout>();
  private failure: DownstreamError | undefined;
  private readonly onData = (chunk: Buffer) => this.handleData(chunk);
  private readonly onClose = () => this.fail(new DownstreamError('drop', 'downstream closed the connection'));
  private readonly onError = (e: Error) => this.fail(new DownstreamError('drop', `downstream socket error: ${e.message}`));

  private constructor(
    socket: net.Socket,
    readonly opts: DownstreamOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connect, read the greeting, EHLO, STARTTLS per `opts.tls` (then EHLO again, RFC 3207 §4.2). */
  static async open(opts: DownstreamOptions): Promise<DownstreamConnection> {
    const socket = await connectTcp(opts.host, opts.port, opts.connectTimeoutMs);
    const conn = new DownstreamConnection(socket, opts);
    try {
      const greeting = await conn.expect(opts.connectTimeoutMs);
      if (greeting.code !== 220) throw new DownstreamError('greeting', `downstream greeting ${greeting.code} ${greeting.lines.join(' ')}`);
      await conn.ehlo();
      if (opts.tls !== 'off') {
        if (conn.caps.has('STARTTLS')) {
          const r = await conn.command('STARTTLS');
          if (r.code !== 220) {
            if (opts.tls === 'required') throw new DownstreamError('tls', `downstream refused STARTTLS: ${r.code} ${r.lines.join(' ')}`);
          } else {
            await conn.upgradeTls();
            await conn.ehlo();
          }
        } else if (opts.tls === 'required') {
          throw new DownstreamError('tls', 'downstream does not offer STARTTLS and downstream.tls is required');
        }
      }
      return conn;
    } catch (e) {
      conn.destroy();
      throw e;
    }
  }

  /** Still usable for another command (not dropped, timed out or broken). */
  get usable(): boolean {
    return !this.failure && !this.socket.destroyed;
  }

  /** EHLO with our name, or with `name` (the client's, after XCLIENT: see DownstreamSession). */
  async ehlo(name = this.opts.helo): Promise<void> {
    const r = await this.command(`EHLO ${name}`);
    if (r.code !== 250) throw new DownstreamError('greeting', `downstream refused EHLO: ${r.code} ${r.lines.join(' ')}`);
    this.caps = new Map();
    for (const line of r.lines.slice(1)) {
      const [kw, ...params] = line.trim().split(/\s+/);
      if (kw) this.caps.set(kw.toUpperCase(), params);
    }
  }

  /** One command, one reply. */
  command(line: string, timeoutMs = this.opts.commandTimeoutMs): Promise<SmtpServerReply> {
    const p = this.expect(timeoutMs);
    this.write(line + '\r\n');
    return p;
  }

  /**
   * Several commands. With PIPELINING (RFC 2920 §3.1) they go out in one write and the replies
   * are read in order; without it, one at a time.
   */
  async pipeline(lines: readonly string[], timeoutMs = this.opts.commandTimeoutMs): Promise<SmtpServerReply[]> {
    if (!this.caps.has('PIPELINING')) {
      const out: SmtpServerReply[] = [];
      for (const l of lines) out.push(await this.command(l, timeoutMs));
      return out;
    }
    if (this.failure) throw this.failure;
    // One promise for the group: it settles with the last reply (or the first failure).
    const out: SmtpServerReply[] = [];
    const all = new Promise<SmtpServerReply[]>((resolve, reject) => {
      for (let i = 0; i < lines.length; i++) {
        const last = i === lines.length - 1;
        this.enqueue({ resolve: (r) => (out.push(r), last && resolve(out)), reject, timeoutMs });
      }
    });
    this.write(lines.join('\r\n') + '\r\n');
    return all;
  }

  /**
   * The message: with BDAT when the downstream offers CHUNKING, else DATA. Returns the final reply
   * (or the DATA command's refusal) and the bytes written.
   */
  async data(parts: readonly Buffer[]): Promise<{ reply: SmtpServerReply; bytes: number }> {
    if (this.opts.chunking !== false && this.caps.has('CHUNKING')) return this.bdat(parts);
    // DATA: wait for 354, send the content dot-stuffed with its terminator (RFC 5321 §4.1.1.4).
    const go = await this.command('DATA');
    if (go.code !== 354) return { reply: go, bytes: 0 };
    const final = this.expect(this.opts.dataTimeoutMs);
    let bytes = 0;
    const out = dotStuff(parts);
    for (const b of out) bytes += b.length;
    // One writev: the kernel gets the whole message in as few segments as possible; the buffers
    // are slices of the received message, not copies.
    this.socket.cork();
    for (const b of out) this.socket.write(b);
    this.socket.uncork();
    return { reply: await final, bytes };
  }

  /**
   * RFC 3030 §2: every MAIL/RCPT reply is in (the relay waits for each), then `BDAT <size> LAST`
   * with the octets right after its CRLF, in one write; the reply to it is the final reply for the
   * message. One round trip and one write less than DATA (no 354), and the content goes out as is:
   * no dot-stuffing, and no end-of-data sequence that anyone could misread (the chunk is counted,
   * RFC 3030 §2: a receiver that refuses BDAT still takes the counted octets as data, never as
   * commands). Only the validated message is sent (CRLF line endings, no NUL).
   */
  private async bdat(parts: readonly Buffer[]): Promise<{ reply: SmtpServerReply; bytes: number }> {
    if (this.failure) throw this.failure;
    let bytes = 0;
    for (const b of parts) bytes += b.length;
    const final = this.expect(this.opts.dataTimeoutMs);
    this.socket.cork();
    this.write(`BDAT ${bytes} LAST\r\n`);
    for (const b of parts) this.socket.write(b);
    this.socket.uncork();
    return { reply: await final, bytes };
  }

  /** Polite end: QUIT without waiting long for the reply, then close. */
  quit(): void {
    if (!this.usable) return this.destroy();
    const p = this.command('QUIT', 2000);
    p.then(
      () => this.destroy(),
      () => this.destroy(),
    );
  }

  destroy(): void {
    this.fail(new DownstreamError('drop', 'connection closed by spamgate'));
  }

  private write(s: string): void {
    if (this.failure) return;
    this.socket.write(s);
  }

  private expect(timeoutMs: number): Promise<SmtpServerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.enqueue({ resolve, reject, timeoutMs }));
  }

  private enqueue(w: Waiter): void {
    this.waiters.push(w);
    if (this.waiters.length === 1) this.arm(w.timeoutMs);
  }

  /** Start the deadline of the (new) oldest outstanding reply. */
  private arm(ms: number): void {
    const t = this.deadlines.get(ms);
    if (t) t.refresh();
    else this.deadlines.set(ms, setTimeout(() => this.onDeadline(ms), ms));
  }

  private onDeadline(ms: number): void {
    const w = this.waiters[0];
    // Stale: the reply came, or the oldest reply has the other timeout value (its own timer runs).
    if (!w || w.timeoutMs !== ms) return;
    this.fail(new DownstreamError('timeout', `downstream did not answer within ${ms} ms`));
  }

  private handleData(chunk: Buffer): void {
    let replies: SmtpServerReply[];
    try {
      replies = this.reader.push(chunk);
    } catch (e) {
      return this.fail(new DownstreamError('protocol', (e as ReplyProtocolError).message));
    }
    for (const r of replies) {
      const w = this.waiters.shift();
      if (!w) {
        // Unsolicited reply (e.g. `421 timeout` before closing): the session is over.
        return this.fail(new DownstreamError('drop', `unsolicited downstream reply ${r.code} ${r.lines.join(' ')}`));
      }
      const next = this.waiters[0];
      if (next) this.arm(next.timeoutMs);
      w.resolve(r);
    }
  }

  private fail(err: DownstreamError): void {
    if (!this.failure) this.failure = err;
    const waiters = this.waiters;
    this.waiters = [];
    for (const t of this.deadlines.values()) clearTimeout(t);
    this.deadlines.clear();
    for (const w of waiters) w.reject(this.failure);
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', this.onError);
  }

  private detach(s: net.Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('error', this.onError);
  }

  private upgradeTls(): Promise<void> {
    const raw = this.socket;
    this.detach(raw);
    // Swallow late errors on the raw socket; the TLS socket reports them.
    raw.on('error', () => undefined);
    const servername = net.isIP(this.opts.host) ? undefined : this.opts.host;
    return new Promise((resolve, reject) => {
      const t = tls.connect({ socket: raw, rejectUnauthorized: this.opts.tlsVerify, ...(servername ? { servername } : {}) });
      const timer = setTimeout(() => {
        t.destroy();
        reject(new DownstreamError('timeout', 'downstream TLS handshake timed out'));
      }, this.opts.connectTimeoutMs);
      t.once('secureConnect', () => {
        clearTimeout(timer);
        t.off('error', onHandshakeError);
        this.socket = t;
        this.reader = new SmtpReplyReader();
        this.tls = true;
        t.setNoDelay(true);
        this.attach(t);
        resolve();
      });
      const onHandshakeError = (e: Error) => {
        clearTimeout(timer);
        t.destroy();
        this.failure = new DownstreamError('tls', `downstream TLS handshake failed: ${e.message}`);
        reject(this.failure);
      };
      t.once('error', onHandshakeError);
    });
  }
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.setNoDelay(true);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DownstreamError('timeout', `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onErr);
      resolve(s);
    });
    const onErr = (e: Error) => {
      clearTimeout(timer);
      reject(new DownstreamError('connect', `connect to ${host}:${port} failed: ${e.message}`));
    };
    s.once('error', onErr);
  });
}
