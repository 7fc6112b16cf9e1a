/**
 * XFORWARD NAME (and our Received line) carry the client's host name only when the engine's FCrDNS
 * check forward-confirmed it; otherwise NAME=[UNAVAILABLE] (Postfix XFORWARD_README). Real parts:
 * the real engine with the fcrdns check and our resolver against a loopback DNS server, a raw
 * client whose address comes from a PROXY v1 header (trusted 127.0.0.1), the real proxy, and the
 * smtp-server test sink recording the wire.
 */
import path from 'node:path';
import { buildEngine } from '../../src/app/build-engine.js';
import { configSchema } from '../../src/config/schema.js';
import type { Engine } from '../../src/core/engine.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { startDnsServer, rr, type TestDnsServer } from '../helpers/dns-server.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

let dns: TestDnsServer;
let sink: Sink;
let proxy: Harness | undefined;
let engine: Engine | undefined;

beforeAll(async () => {
  dns = await startDnsServer({
    records: {
      // 203.0.113.5: PTR confirmed by the name's A record.
      '5.113.0.203.in-addr.arpa': [rr.ptr('mail.sender.example')],
      'mail.sender.example': [rr.a('203.0.113.5')],
      // 203.0.113.6: PTR whose name points elsewhere (not forward-confirmed).
      '6.113.0.203.in-addr.arpa': [rr.ptr('forged.sender.example')],
      'forged.sender.example': [rr.a('198.51.100.1')],
    },
  });
  sink = await startSink({ xforward: true });
});
afterAll(async () => {
  await sink.close();
  await dns.close();
});
afterEach(async () => {
  await proxy?.close();
  await engine?.close();
  proxy = engine = undefined;
});

async function start() {
  const checks = Object.fromEntries(
    ['spf', 'auth', 'dnsbl', 'uribl', 'helo', 'sender_domain', 'ratelimit', 'reputation', 'greylist', 'history'].map((k) => [k, { enabled: false }]),
  );
  const base = {
    hostname: 'mx.test.example',
    dns: { servers: [dns.address] },
    rules: { paths: [path.join(ROOT, 'rules')], watch: false },
    checks: { ...checks, fcrdns: { enabled: true } },
    proxyProtocol: { trusted: ['127.0.0.1'] },
    // Only the name is under test: no score may refuse these test messages.
    actions: { greylist: 90, tag: 90, reject: 100 },
  };
  const config = configSchema.parse({ ...base, listen: ['127.0.0.1:0'] });
  engine = await buildEngine({ config, file: '(test)', baseDir: ROOT }, { log: silentLogger, metrics: createMetrics() });
  proxy = await startProxy(sink.port, base as never, engine);
}

/** One message from `clientIp` (announced by a PROXY v1 header); returns what the sink got. */
async function sendFrom(clientIp: string) {
  const before = sink.raw.length;
  const c = await RawSmtp.connect(proxy!.port, { prefix: Buffer.from(`PROXY TCP4 ${clientIp} 127.0.0.1 40123 25\r\n`) });
  expect((await c.read())?.code).toBe(220);
  expect((await c.cmd('EHLO helo.sender.example'))?.code).toBe(250);
  expect((await c.cmd('MAIL FROM:<alice@sender.example>'))?.code).toBe(250);
  expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  c.write('Subject: hi\r\n\r\nbody\r\n.\r\n');
  expect(await c.read()).toMatchObject({ code: 250 });
  await c.cmd('QUIT');
  c.close();
  const wire = Buffer.concat(sink.raw[before]!).toString('latin1');
  return { wire, message: sink.messages[sink.messages.length - 1]!.data.toString('latin1') };
}

test('a forward-confirmed PTR name goes downstream as XFORWARD NAME and into our Received line', async () => {
  await start();
  const { wire, message } = await sendFrom('203.0.113.5');
  expect(wire).toMatch(/^XFORWARD PROTO=ESMTP HELO=helo\.sender\.example PORT=40123 SOURCE=REMOTE IDENT=\S+ NAME=mail\.sender\.example ADDR=203\.0\.113\.5\r\n/m);
  expect(message).toMatch(/^Received: from helo\.sender\.example \(mail\.sender\.example \[203\.0\.113\.5\]\)\r\n/m);
});

test('a PTR name that does not resolve back is not passed on: NAME=[UNAVAILABLE]', async () => {
  await start();
  const { wire, message } = await sendFrom('203.0.113.6');
  expect(wire).toMatch(/^XFORWARD .*NAME=\[UNAVAILABLE\] ADDR=203\.0\.113\.6\r\n/m);
  expect(wire.split('\r\n').filter((l) => l.startsWith('XFORWARD')).join('\n')).not.toContain('forged');
  expect(message).toMatch(/^Received: from helo\.sender\.example \(\[203\.0\.113\.6\]\)\r\n/m);
});
