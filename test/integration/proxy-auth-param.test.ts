/**
 * MAIL FROM `AUTH=` passed downstream (RFC 4954 §5), with real sockets: a raw client → the proxy →
 * a real smtp-server downstream that offers AUTH (authOptional, so MAIL needs no login) or not.
 * The downstream's received bytes are recorded, so the test reads the exact MAIL line the proxy
 * sent (smtp-server would hand its hooks the xtext-decoded value only).
 *
 * - a client in `upstream.trustAuthFrom` naming `AUTH=<mailbox>`: the same mailbox arrives,
 *   xtext-encoded again (RFC 3461 §4: `+` and `=` as `+2B`, `+3D`);
 * - a client outside that list, or a trusted one naming no submitter: `AUTH=<>`;
 * - a downstream that does not offer AUTH: no AUTH= parameter at all.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';

interface Downstream {
  readonly port: number;
  /** MAIL commands as they arrived on the wire. */
  mailLines(): string[];
  /** The AUTH value smtp-server decoded for each accepted MAIL (undefined: none sent). */
  readonly decoded: (string | boolean | undefined)[];
  close(): Promise<void>;
}

async function startDownstream(offerAuth: boolean): Promise<Downstream> {
  const decoded: (string | boolean | undefined)[] = [];
  const raw: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    // Offering AUTH (PLAIN LOGIN) is enough for the EHLO capability; nobody logs in, so MAIL must
    // be allowed without it (authOptional) and AUTH over cleartext is allowed to be advertised.
    disabledCommands: offerAuth ? ['STARTTLS'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    authOptional: true,
    allowInsecureAuth: true,
    onMailFrom(addr, _s, cb) {
      const args = (addr.args || {}) as Record<string, string | boolean>;
      decoded.push(args.AUTH);
      cb();
    },
    onData(stream, _s, cb) {
      stream.resume();
      stream.on('end', () => cb(null, '2.0.0 Ok: queued'));
    },
  });
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (c: Buffer) => raw.push(c));
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    server.connect(socket, {});
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  return {
    port: (front.address() as net.AddressInfo).port,
    mailLines: () =>
      Buffer.concat(raw)
        .toString('latin1')
        .split('\r\n')
        .filter((l) => /^MAIL /i.test(l)),
    decoded,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}

/** One message from 127.0.0.1 with the given MAIL FROM parameters; returns the final reply code. */
async function send(port: number, mailParams: string): Promise<number | undefined> {
  const c = await RawSmtp.connect(port);
  try {
    expect((await c.read())?.code).toBe(220);
    expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);
    expect((await c.cmd(`MAIL FROM:<alice@example.org>${mailParams}`))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: auth\r\n\r\nbody\r\n.\r\n');
    const r = await c.read();
    await c.cmd('QUIT');
    return r?.code;
  } finally {
    c.close();
  }
}

// The submitter as the client encodes it (RFC 3461 §4): `+` → +2B, `=` → +3D; "e=mc2" is RFC 4954 §5's example.
const SUBMITTER = 'e=mc2+physics@example.org';
const SUBMITTER_XTEXT = 'e+3Dmc2+2Bphysics@example.org';

describe('MAIL FROM AUTH= towards the downstream (RFC 4954 §5)', () => {
  let ds: Downstream | undefined;
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    await ds?.close();
    proxy = ds = undefined;
  });

  test('trusted client: its AUTH=<mailbox> arrives xtext-encoded; without AUTH= or with AUTH=<>: AUTH=<>', async () => {
    ds = await startDownstream(true);
    proxy = await startProxy(ds.port, { upstream: { trustAuthFrom: ['127.0.0.1/32'] } });
    expect(await send(proxy.port, ` AUTH=${SUBMITTER_XTEXT}`)).toBe(250);
    expect(await send(proxy.port, '')).toBe(250);
    expect(await send(proxy.port, ' AUTH=<>')).toBe(250);
    expect(ds.mailLines()).toEqual([
      `MAIL FROM:<alice@example.org> AUTH=${SUBMITTER_XTEXT}`,
      'MAIL FROM:<alice@example.org> AUTH=<>',
      'MAIL FROM:<alice@example.org> AUTH=<>',
    ]);
    // The downstream's own xtext decoder reads back exactly the client's submitter.
    expect(ds.decoded).toEqual([SUBMITTER, '<>', '<>']);
  });

  test('untrusted client (trustAuthFrom names another address, or nothing): AUTH=<> whatever it claimed', async () => {
    ds = await startDownstream(true);
    proxy = await startProxy(ds.port, { upstream: { trustAuthFrom: ['127.0.0.2/32'] } });
    expect(await send(proxy.port, ` AUTH=${SUBMITTER_XTEXT}`)).toBe(250);
    await proxy.close();
    proxy = await startProxy(ds.port);
    expect(await send(proxy.port, ` AUTH=${SUBMITTER_XTEXT}`)).toBe(250);
    expect(await send(proxy.port, '')).toBe(250);
    expect(ds.mailLines()).toEqual(['MAIL FROM:<alice@example.org> AUTH=<>', 'MAIL FROM:<alice@example.org> AUTH=<>', 'MAIL FROM:<alice@example.org> AUTH=<>']);
  });

  test('trusted client, submitter the proxy cannot repeat octet for octet (non-ASCII): AUTH=<>', async () => {
    ds = await startDownstream(true);
    proxy = await startProxy(ds.port, { upstream: { trustAuthFrom: ['127.0.0.1/32'] } });
    expect(await send(proxy.port, ' AUTH=j+C3+BCrgen@example.org')).toBe(250);
    expect(ds.mailLines()).toEqual(['MAIL FROM:<alice@example.org> AUTH=<>']);
  });

  test('downstream without AUTH: no AUTH= parameter, even for a trusted client', async () => {
    ds = await startDownstream(false);
    proxy = await startProxy(ds.port, { upstream: { trustAuthFrom: ['127.0.0.1/32'] } });
    expect(await send(proxy.port, ` AUTH=${SUBMITTER_XTEXT}`)).toBe(250);
    expect(await send(proxy.port, '')).toBe(250);
    expect(ds.mailLines()).toEqual(['MAIL FROM:<alice@example.org>', 'MAIL FROM:<alice@example.org>']);
    expect(ds.decoded).toEqual([undefined, undefined]);
  });
});
