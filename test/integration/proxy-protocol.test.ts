/**
 * PROXY protocol v1 and v2 in front of the SMTP proxy: honoured only from proxyProtocol.trusted,
 * required from them, and never trusted from anyone else. The real client address reaches the
 * downstream in XFORWARD ADDR. proxy-protocol-js builds the headers (a test oracle only).
 */
import pp from 'proxy-protocol-js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';

const v1 = (src: string, sport = 40000) => Buffer.from(new pp.V1ProxyProtocol(pp.INETProtocol.TCP4, new pp.Peer(src, sport), new pp.Peer('192.0.2.25', 25)).build(), 'latin1');

const v2ipv6 = () =>
  Buffer.from(
    new pp.V2ProxyProtocol(
      pp.Command.PROXY,
      pp.TransportProtocol.STREAM,
      new pp.IPv6ProxyAddress(
        pp.IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07]),
        41000,
        pp.IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x19]),
        25,
      ),
    ).build(),
  );

const v2ipv4 = (a: [number, number, number, number]) =>
  Buffer.from(new pp.V2ProxyProtocol(pp.Command.PROXY, pp.TransportProtocol.STREAM, new pp.IPv4ProxyAddress(pp.IPv4Address.createFrom(a), 42000, pp.IPv4Address.createFrom([192, 0, 2, 25]), 25)).build());

const v2local = () =>
  Buffer.from(new pp.V2ProxyProtocol(pp.Command.LOCAL, pp.TransportProtocol.UNSPEC, new pp.UnspecProxyAddress()).build());

async function deliver(c: RawSmtp): Promise<void> {
  expect((await c.cmd('EHLO lb-client.example'))?.code).toBe(250);
  expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
  expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  c.write('Subject: via LB\r\n\r\nhello\r\n.\r\n');
  expect((await c.read())?.code).toBe(250);
}

describe('PROXY protocol', () => {
  let sink: Sink;
  let proxy: Harness | undefined;
  beforeAll(async () => {
    sink = await startSink({ xforward: true });
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  const wire = () => Buffer.concat(sink.raw[sink.raw.length - 1]!).toString('latin1');

  test('v1 from a trusted peer: the client address comes from the header', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['127.0.0.0/8'] } });
    const c = await RawSmtp.connect(proxy.port, { prefix: v1('203.0.113.7') });
    expect((await c.read())?.code).toBe(220);
    await deliver(c);
    expect(wire()).toMatch(/XFORWARD .*PORT=40000 .*ADDR=203\.0\.113\.7\r\n/);
    expect(sink.messages[sink.messages.length - 1]!.data.toString()).toMatch(/^Received: from lb-client\.example \(\[203\.0\.113\.7\]\)/);
    c.close();
  });

  test('v2 TCP6 and TCP4 from a trusted peer', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['127.0.0.1'] } });
    let c = await RawSmtp.connect(proxy.port, { prefix: v2ipv6() });
    expect((await c.read())?.code).toBe(220);
    await deliver(c);
    expect(wire()).toMatch(/XFORWARD .*PORT=41000 .*ADDR=IPV6:2001:db8::7\r\n/);
    c.close();
    c = await RawSmtp.connect(proxy.port, { prefix: v2ipv4([198, 51, 100, 9]) });
    expect((await c.read())?.code).toBe(220);
    await deliver(c);
    expect(wire()).toMatch(/XFORWARD .*ADDR=198\.51\.100\.9\r\n/);
    c.close();
  });

  test('v2 LOCAL (balancer health check) keeps the socket address', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['127.0.0.1'] } });
    const c = await RawSmtp.connect(proxy.port, { prefix: v2local() });
    expect((await c.read())?.code).toBe(220);
    await deliver(c);
    expect(wire()).toMatch(/XFORWARD .*ADDR=127\.0\.0\.1\r\n/);
    c.close();
  });

  test('an untrusted peer sending PROXY gets no trust: a bad command, and its own address is used', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['10.9.9.9'] } });
    const c = await RawSmtp.connect(proxy.port);
    expect((await c.read())?.code).toBe(220);
    expect((await c.cmd(v1('203.0.113.7').toString('latin1').trimEnd()))?.code).toBe(500);
    await deliver(c);
    expect(wire()).toMatch(/XFORWARD .*ADDR=127\.0\.0\.1\r\n/);
    expect(wire()).not.toContain('203.0.113.7');
    c.close();
    // Sent before the banner it is an early talker, refused outright.
    const d = await RawSmtp.connect(proxy.port, { prefix: v2ipv4([203, 0, 113, 7]) });
    const r = await d.read();
    expect(r?.code).not.toBe(220);
    d.close();
  });

  test('a trusted peer must send a valid header: plain SMTP or silence → dropped without a banner', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 200 } });
    const c = await RawSmtp.connect(proxy.port, { prefix: Buffer.from('EHLO sneaky.example\r\n') });
    expect(await c.read()).toBeUndefined();
    const d = await RawSmtp.connect(proxy.port);
    expect(await d.read()).toBeUndefined(); // closed at proxyProtocol.timeoutMs
    const e = await RawSmtp.connect(proxy.port, { prefix: Buffer.from('PROXY TCP4 300.1.1.1 192.0.2.1 1 25\r\n') });
    expect(await e.read()).toBeUndefined();
  });

  test('per-IP limits count the real client behind the balancer', async () => {
    proxy = await startProxy(sink.port, { proxyProtocol: { trusted: ['127.0.0.1'] }, limits: { maxClientsPerIp: 1 } });
    const a = await RawSmtp.connect(proxy.port, { prefix: v1('203.0.113.1') });
    const b = await RawSmtp.connect(proxy.port, { prefix: v1('203.0.113.2') });
    expect((await a.read())?.code).toBe(220);
    expect((await b.read())?.code).toBe(220);
    const c = await RawSmtp.connect(proxy.port, { prefix: v1('203.0.113.1', 40001) });
    expect((await c.read())?.code).toBe(421);
    a.close();
    b.close();
    c.close();
  });
});
