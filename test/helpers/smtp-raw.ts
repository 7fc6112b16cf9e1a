/**
 * A raw-socket SMTP client for tests that need exact bytes on the wire (smuggling sequences,
 * garbage commands, PROXY headers). Replies are parsed as they arrive.
 */
import net from 'node:net';

export interface RawReply {
  readonly code: number;
  readonly text: string;
}

export class RawSmtp {
  private buf = '';
  private lines: string[] = [];
  private replies: RawReply[] = [];
  private waiting: ((r: RawReply | undefined) => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(undefined);
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, opts: { prefix?: Buffer } = {}): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        if (opts.prefix) s.write(opts.prefix);
        resolve(new RawSmtp(s));
      });
      s.once('error', reject);
    });
  }

  private onData(c: Buffer): void {
    this.buf += c.toString('utf8');
    let i: number;
    while ((i = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      this.lines.push(line);
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.map((l) => l.slice(4)).join('\n') };
        this.lines = [];
        const w = this.waiting.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
  }

  /** Next reply; undefined when the connection closed first. */
  read(): Promise<RawReply | undefined> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Send a command line (CRLF added) and read its reply. */
  async cmd(line: string): Promise<RawReply | undefined> {
    this.write(line + '\r\n');
    return this.read();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Resolves once the server closed the connection. */
  waitClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.socket.once('close', () => r()));
  }
}
