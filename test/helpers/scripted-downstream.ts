/**
 * A raw downstream SMTP server on loopback that answers from a script: for protocol details the
 * smtp-server test sink cannot produce (multi-line replies, CHUNKING, a reply that never comes).
 * Replies are raw CRLF-terminated text; an empty string means "no answer" (deadline tests).
 */
import net from 'node:net';

export interface DownstreamScript {
  /** Reply to MAIL (the whole command line is passed). */
  mail?: (line: string) => string;
  /** Reply to RCPT (the whole command line is passed). */
  rcpt?: (line: string) => string;
  /** Reply at the end of each message, or a function of the message number (1-based). */
  final?: string | ((n: number) => string);
  /** Offer CHUNKING (RFC 3030) in the EHLO reply and accept `BDAT <n> LAST`. */
  chunking?: boolean;
}

export async function scriptedDownstream(script: DownstreamScript = {}) {
  const received: string[] = [];
  const chunks: Buffer[] = [];
  let connections = 0;
  let messages = 0;
  /** The reply to the end of message number n (1-based, over all connections). */
  const final = (n: number) => (typeof script.final === 'function' ? script.final(n) : (script.final ?? '250 2.0.0 Ok: queued\r\n'));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    let inData = false;
    /** Octets still expected for the current BDAT chunk. */
    let bdatLeft = 0;
    s.write('220 downstream.test ESMTP\r\n');
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      for (;;) {
        if (bdatLeft > 0) {
          const take = Math.min(bdatLeft, buf.length);
          chunks.push(Buffer.from(buf.slice(0, take), 'latin1'));
          buf = buf.slice(take);
          bdatLeft -= take;
          if (bdatLeft > 0) return;
          s.write(final(++messages));
          continue;
        }
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buf = buf.slice(end + 5);
          inData = false;
          s.write(final(++messages));
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        received.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') s.write(`250-downstream.test\r\n250-PIPELINING\r\n${script.chunking ? '250-CHUNKING\r\n' : ''}250 8BITMIME\r\n`);
        else if (verb === 'BDAT') bdatLeft = Number(/^BDAT (\d+) LAST$/i.exec(line)?.[1] ?? NaN);
        else if (verb === 'MAIL') s.write(script.mail?.(line) ?? '250 2.1.0 Ok\r\n');
        else if (verb === 'RCPT') s.write(script.rcpt?.(line) ?? '250 2.1.5 Ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          s.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
        else s.write('250 2.0.0 Ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    chunks,
    connections: () => connections,
    /** Messages completed (end of DATA or last BDAT chunk). */
    messages: () => messages,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

