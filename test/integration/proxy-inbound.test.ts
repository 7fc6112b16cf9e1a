/**
 * The inbound side: advertised extensions, STARTTLS both ways, limits (size, clients, per-IP),
 * garbage commands, and refusing to start on a bad TLS key/cert path.
 */
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { makeSelfSignedCert, type TestCert } from '../helpers/smtp-tls.js';
import { configSchema } from '../../src/config/schema.js';
import { createSmtpProxy } from '../../src/frontends/smtp/smtp-proxy.js';
import { createAcceptAllEngine } from '../../src/core/accept-all.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';

describe('inbound SMTP', () => {
  let sink: Sink | undefined;
  let proxy: Harness | undefined;
  let cert: TestCert;
  beforeAll(() => {
    cert = makeSelfSignedCert();
  });
  afterAll(() => cert.cleanup());
  afterEach(async () => {
    await proxy?.close();
    await sink?.close();
    proxy = sink = undefined;
  });

  test('EHLO offers PIPELINING 8BITMIME SMTPUTF8 SIZE STARTTLS, and no AUTH or CHUNKING', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port, { tls: { key: cert.keyPath, cert: cert.certPath }, limits: { maxMessageSize: 12345 } });
    const c = await RawSmtp.connect(proxy.port);
    expect((await c.read())?.text).toMatch(/^mx\.test\.example ESMTP/);
    const ehlo = (await c.cmd('EHLO client.example.org'))!;
    const caps = ehlo.text.split('\n').slice(1);
    expect(caps).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 12345', 'STARTTLS']));
    expect(caps.some((l) => /^(AUTH|CHUNKING|BINARYMIME)/.test(l))).toBe(false);
    expect((await c.cmd('AUTH PLAIN AGFhAGI='))?.code).toBeGreaterThanOrEqual(500);
    expect((await c.cmd('BDAT 10 LAST'))?.code).toBe(500);
    c.close();
  });

  test('garbage commands get 5xx and the session survives', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port);
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);
    expect((await c.cmd('FOOBAR baz'))?.code).toBe(500);
    expect((await c.cmd('MAIL FROM:not-an-address'))?.code).toBe(501);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(503);
    expect((await c.cmd('\x01\x02\x7f'))?.code).toBe(500);
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: ok\r\n\r\nbody\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    expect(sink.messages).toHaveLength(1);
    c.close();
  });

  test('oversized message → 552 after the dot, nothing relayed, session goes on; SIZE= too big → 552 at MAIL', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port, { limits: { maxMessageSize: 2000 } });
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO client.example.org');
    expect((await c.cmd('MAIL FROM:<alice@example.org> SIZE=5000'))?.code).toBe(552);
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    const line = 'x'.repeat(98) + '\r\n';
    for (let i = 0; i < 500; i++) c.write(line); // 50 kB, 25× the limit
    c.write('.\r\n');
    expect(await c.read()).toEqual({ code: 552, text: '5.3.4 Message size exceeds fixed maximum message size' });
    expect((await c.cmd('NOOP'))?.code).toBe(250);
    expect(sink.messages).toHaveLength(0);
    c.close();
  });

  test('STARTTLS inbound with the configured certificate, and STARTTLS to the downstream', async () => {
    sink = await startSink({ tls: { key: cert.key, cert: cert.cert } });
    proxy = await startProxy(sink.port, { tls: { key: cert.keyPath, cert: cert.certPath }, downstream: { tls: 'required' } });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: proxy.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    const info = await transport.sendMail({ envelope: { from: 'alice@example.org', to: ['bob@example.net'] }, raw: 'Subject: tls\r\n\r\nsecret\r\n' });
    transport.close();
    expect(info.accepted).toEqual(['bob@example.net']);
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.secure).toBe(true);
    // The Received line says the client used TLS (RFC 3848 ESMTPS).
    expect(sink.messages[0]!.data.toString()).toMatch(/with ESMTPS id/);
    // The certificate the proxy presented is ours.
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO x.example');
    expect((await c.cmd('STARTTLS'))?.code).toBe(220);
    const peerCert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const t = tls.connect({ socket: c.socket, rejectUnauthorized: false }, () => {
        resolve(t.getPeerCertificate());
        t.destroy();
      });
      t.once('error', reject);
    });
    expect(peerCert.subject.CN).toBe('localhost');
  });

  test('downstream.tls required but not offered → 451 4.4.1; opportunistic → relays in clear', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port, { downstream: { tls: 'required' } });
    let c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO x.example');
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(451);
    c.close();
    await proxy.close();
    proxy = await startProxy(sink.port, { downstream: { tls: 'opportunistic' } });
    c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO x.example');
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    c.close();
  });

  test('refuses to start on a bad tls.key/tls.cert path with an error naming the key', () => {
    const config = configSchema.parse({ listen: ['127.0.0.1:0'], tls: { key: '/nonexistent/key.pem', cert: cert.certPath } });
    expect(() => createSmtpProxy({ config, baseDir: '/', engine: createAcceptAllEngine(), log: silentLogger, metrics: createMetrics() })).toThrow(/^tls\.key: cannot read \/nonexistent\/key\.pem: ENOENT/);
    const swapped = configSchema.parse({ listen: ['127.0.0.1:0'], tls: { key: cert.certPath, cert: cert.keyPath } });
    expect(() => createSmtpProxy({ config: swapped, baseDir: '/', engine: createAcceptAllEngine(), log: silentLogger, metrics: createMetrics() })).toThrow(/not a usable key and certificate pair/);
  });

  test('limits.maxClientsPerIp and limits.maxClients → 421 and close', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port, { limits: { maxClientsPerIp: 2, maxClients: 3 } });
    const a = await RawSmtp.connect(proxy.port);
    const b = await RawSmtp.connect(proxy.port);
    expect((await a.read())?.code).toBe(220);
    expect((await b.read())?.code).toBe(220);
    const c = await RawSmtp.connect(proxy.port);
    expect(await c.read()).toEqual({ code: 421, text: '4.7.0 Too many connections, please try again later' });
    await c.waitClosed();
    // Once one leaves, the same IP may connect again.
    a.close();
    await a.waitClosed();
    let d: RawSmtp | undefined;
    for (;;) {
      d = await RawSmtp.connect(proxy.port);
      const r = await d.read();
      if (r?.code === 220) break;
      d.close(); // the close of `a` may not have been seen by the proxy yet
    }
    b.close();
    d.close();
    await proxy.close();
    // maxClients counts every client; raise the per-IP limit above it.
    proxy = await startProxy(sink.port, { limits: { maxClientsPerIp: 10, maxClients: 2 } });
    const e = await RawSmtp.connect(proxy.port);
    const f = await RawSmtp.connect(proxy.port);
    expect((await e.read())?.code).toBe(220);
    expect((await f.read())?.code).toBe(220);
    const g = await RawSmtp.connect(proxy.port);
    expect((await g.read())?.code).toBe(421);
    e.close();
    f.close();
    g.close();
  });

  test('an idle client is timed out (limits.socketTimeoutMs) with 421', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port, { limits: { socketTimeoutMs: 300 } });
    const c = await RawSmtp.connect(proxy.port);
    expect((await c.read())?.code).toBe(220);
    expect((await c.read())?.code).toBe(421);
    await c.waitClosed();
  });
});
