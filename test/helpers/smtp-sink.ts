/**
 * A real downstream MTA for tests: smtp-server on 127.0.0.1:0 that records what it received.
 * Configurable per-RCPT and DATA replies, a connection drop mid-DATA, STARTTLS, and XFORWARD /
 * XCLIENT advertising. Raw received bytes are recorded per connection (cleartext sockets only).
 */
import net from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface SinkReply {
  readonly code: number;
  /** Text after the code, e.g. `5.1.1 No such user`. */
  readonly text: string;
}

export interface SinkMessage {
  readonly mailFrom: string;
  readonly rcptTo: string[];
  /** The message as the sink's DATA stream gave it (dot-unstuffed, without the final dot). */
  readonly data: Buffer;
  readonly xforward: Record<string, string>;
  readonly xclient: Record<string, string>;
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly heloName: string;
}

export interface SinkOptions {
  readonly tls?: { key: Buffer; cert: Buffer };
  readonly xforward?: boolean;
  readonly xclient?: boolean;
  readonly pipelining?: boolean;
  readonly mail?: (from: string) => SinkReply | undefined;
  readonly rcpt?: (to: string) => SinkReply | undefined;
  /** Reply to the message; 'drop' destroys the connection once the data arrived. */
  readonly data?: (msg: Buffer) => SinkReply | 'drop' | 'hang' | undefined;
  /** Destroy the connection after this many message bytes arrived (mid-DATA). */
  readonly dropAfterBytes?: number;
}

export interface Sink {
  readonly port: number;
  readonly messages: SinkMessage[];
  /** Cleartext bytes received per connection, in order. */
  readonly raw: Buffer[][];
  /** Number of connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

function err(r: SinkReply): Error {
  const e = new Error(r.text) as Error & { responseCode: number };
  e.responseCode = r.code;
  return e;
}

function mapToObject(m: Map<string, string | number | false> | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v] of m ?? []) if (v !== false) o[k] = String(v);
  return o;
}

export async function startSink(opts: SinkOptions = {}): Promise<Sink> {
  const messages: SinkMessage[] = [];
  const raw: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  let connectionCount = 0;
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !opts.tls,
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    hidePIPELINING: opts.pipelining === false,
    useXForward: opts.xforward ?? false,
    useXClient: opts.xclient ?? false,
    size: 100 * 1024 * 1024,
    onMailFrom(addr, _s, cb) {
      const r = opts.mail?.(addr.address);
      cb(r ? err(r) : undefined);
    },
    onRcptTo(addr, _s, cb) {
      const r = opts.rcpt?.(addr.address);
      cb(r ? err(r) : undefined);
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      let n = 0;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (opts.dropAfterBytes !== undefined && n >= opts.dropAfterBytes) {
          for (const s of sockets) s.destroy();
        }
      });
      stream.on('end', () => {
        const data = Buffer.concat(chunks);
        const r = opts.data?.(data);
        if (r === 'hang') return;
        if (r === 'drop') {
          for (const s of sockets) s.destroy();
          return;
        }
        if (r && r.code >= 400) return cb(err(r));
        messages.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((x) => x.address),
          data,
          xforward: mapToObject(session.xForward),
          xclient: mapToObject(session.xClient),
          secure: session.secure,
          remoteAddress: session.remoteAddress,
          heloName: session.hostNameAppearsAs,
        });
        cb(null, r ? r.text : '2.0.0 Ok: queued as SINK' + messages.length);
      });
    },
  });
  const front = net.createServer((socket) => {
    connectionCount++;
    sockets.add(socket);
    const rec: Buffer[] = [];
    raw.push(rec);
    socket.on('data', (c: Buffer) => rec.push(c));
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    server.connect(socket, {});
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const port = (front.address() as net.AddressInfo).port;
  return {
    port,
    messages,
    raw,
    connections: () => connectionCount,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}
