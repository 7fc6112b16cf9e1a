/**
 * Relay semantics with real parts: nodemailer / raw sockets → proxy on 127.0.0.1:0 → an
 * smtp-server sink on 127.0.0.1:0. The client never sees 250 without the downstream's 250.
 */
import nodemailer from 'nodemailer';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';

const MESSAGE = Buffer.from(
  [
    'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to:subject;',
    '\tbh=abc=; b=def=',
    'From: Alice <alice@example.org>',
    'To: bob@example.net',
    'Subject: =?UTF-8?B?w6TDtsO8?= and a long subject line that is folded',
    '  onto a second line',
    'X-Spam-Flag: NO',
    '',
    'Body line one with 8-bit: \u00e4\u00f6\u00fc',
    '.a line starting with a dot',
    '..two dots',
    '.',
    'trailing spaces   ',
    '',
  ].join('\r\n'),
  'utf8',
);

/** MAIL, RCPTs, DATA, message, dot over a raw socket; returns every reply code/text. */
async function transaction(c: RawSmtp, from: string, rcpts: string[], body: Buffer) {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  const rcpt = [];
  for (const r of rcpts) rcpt.push(await c.cmd(`RCPT TO:<${r}>`));
  const data = await c.cmd('DATA');
  if (data?.code !== 354) return { mail, rcpt, data, final: undefined };
  const stuffed = Buffer.from(body.toString('latin1').replace(/^\./gm, '..'), 'latin1');
  c.write(Buffer.concat([stuffed, Buffer.from('.\r\n')]));
  return { mail, rcpt, data, final: await c.read() };
}

async function greet(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  expect((await c.read())?.code).toBe(220);
  expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);
  return c;
}

describe('SMTP proxy relay', () => {
  let sink: Sink | undefined;
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    await sink?.close();
    proxy = sink = undefined;
  });

  test('delivers byte for byte with only our Received line prepended; XFORWARD carries the client', async () => {
    sink = await startSink({ xforward: true });
    proxy = await startProxy(sink.port);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: proxy.port, secure: false, ignoreTLS: true, name: 'client.example.org' });
    const info = await transport.sendMail({ envelope: { from: 'alice@example.org', to: ['bob@example.net'] }, raw: MESSAGE });
    transport.close();
    expect(info.accepted).toEqual(['bob@example.net']);
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as SINK1$/);
    expect(sink.messages).toHaveLength(1);
    const got = sink.messages[0]!;
    expect(got.mailFrom).toBe('alice@example.org');
    expect(got.rcptTo).toEqual(['bob@example.net']);
    // The original bytes, untouched, at the end…
    expect(got.data.subarray(got.data.length - MESSAGE.length).equals(MESSAGE)).toBe(true);
    // …and exactly one prepended field before them: our Received trace field.
    const prefix = got.data.subarray(0, got.data.length - MESSAGE.length).toString('utf8');
    expect(prefix).toMatch(/^Received: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example \(spamgate\) with ESMTP id \S+\r\n\tfor <bob@example\.net>;\r\n\t\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/);
    expect(got.xforward).toMatchObject({ ADDR: '127.0.0.1', HELO: 'client.example.org', PROTO: 'ESMTP', SOURCE: 'REMOTE' });
    expect(got.xforward.PORT).toMatch(/^\d+$/);
    // smtp-server maps [UNAVAILABLE] to "unset"; the wire shows what we sent (XFORWARD_README).
    const wire = Buffer.concat(sink.raw[0]!).toString('latin1');
    expect(wire).toMatch(/^XFORWARD PROTO=ESMTP HELO=client\.example\.org PORT=\d+ SOURCE=REMOTE IDENT=\S+ NAME=\[UNAVAILABLE\] ADDR=127\.0\.0\.1\r\nMAIL FROM:<alice@example\.org>/m);
  });

  test('per-recipient refusals pass through with the downstream code and text', async () => {
    sink = await startSink({ rcpt: (to) => (to.startsWith('nobody@') ? { code: 550, text: '5.1.1 <nobody@example.net>: Recipient address rejected: User unknown' } : to.startsWith('full@') ? { code: 452, text: '4.2.2 Mailbox full' } : undefined) });
    proxy = await startProxy(sink.port);
    const c = await greet(proxy.port);
    const r = await transaction(c, 'alice@example.org', ['nobody@example.net', 'full@example.net', 'bob@example.net'], MESSAGE);
    expect(r.mail?.code).toBe(250);
    expect(r.rcpt[0]).toEqual({ code: 550, text: '5.1.1 <nobody@example.net>: Recipient address rejected: User unknown' });
    expect(r.rcpt[1]).toEqual({ code: 452, text: '4.2.2 Mailbox full' });
    expect(r.rcpt[2]?.code).toBe(250);
    expect(r.final?.code).toBe(250);
    expect(sink.messages.map((m) => m.rcptTo)).toEqual([['bob@example.net']]);
    c.close();
  });

  test('downstream 5xx and 4xx at the dot reach the client as the same code and text', async () => {
    let reply = { code: 554, text: '5.7.1 Message content rejected' };
    sink = await startSink({ data: () => reply });
    proxy = await startProxy(sink.port);
    const c = await greet(proxy.port);
    let r = await transaction(c, 'alice@example.org', ['bob@example.net'], MESSAGE);
    expect(r.final).toEqual({ code: 554, text: '5.7.1 Message content rejected' });
    reply = { code: 451, text: '4.3.0 Queue file write error' };
    r = await transaction(c, 'alice@example.org', ['bob@example.net'], MESSAGE);
    expect(r.final).toEqual({ code: 451, text: '4.3.0 Queue file write error' });
    expect(sink.messages).toHaveLength(0);
    c.close();
  });

  test('downstream down → 451 4.4.1 at MAIL and nothing delivered', async () => {
    sink = await startSink();
    const port = sink.port;
    await sink.close();
    proxy = await startProxy(port);
    const c = await greet(proxy.port);
    const mail = await c.cmd('MAIL FROM:<alice@example.org>');
    expect(mail).toEqual({ code: 451, text: '4.4.1 Downstream server unavailable, please try again later' });
    // The session survives and the client may retry.
    expect((await c.cmd('NOOP'))?.code).toBe(250);
    c.close();
    sink = undefined;
  });

  test('downstream dropping the connection mid-DATA → 451 4.4.1, never 250', async () => {
    sink = await startSink({ dropAfterBytes: 10 });
    proxy = await startProxy(sink.port);
    const c = await greet(proxy.port);
    const r = await transaction(c, 'alice@example.org', ['bob@example.net'], MESSAGE);
    expect(r.final).toEqual({ code: 451, text: '4.4.1 Downstream server unavailable, please try again later' });
    expect(sink.messages).toHaveLength(0);
    c.close();
  });

  test('downstream silent after the dot → 451 4.4.1 at downstream.dataTimeoutMs', async () => {
    sink = await startSink({ data: () => 'hang' });
    proxy = await startProxy(sink.port, { downstream: { dataTimeoutMs: 300 } });
    const c = await greet(proxy.port);
    const r = await transaction(c, 'alice@example.org', ['bob@example.net'], MESSAGE);
    expect(r.final?.code).toBe(451);
    expect(r.final?.text).toMatch(/^4\.4\.1 /);
    c.close();
  });

  test('one downstream connection per client connection, reused with RSET across transactions', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port);
    const c = await greet(proxy.port);
    expect((await transaction(c, 'a@example.org', ['bob@example.net'], MESSAGE)).final?.code).toBe(250);
    // An abandoned transaction: MAIL + RCPT then RSET.
    expect((await c.cmd('MAIL FROM:<b@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<carol@example.net>'))?.code).toBe(250);
    expect((await c.cmd('RSET'))?.code).toBe(250);
    expect((await transaction(c, 'c@example.org', ['dave@example.net'], MESSAGE)).final?.code).toBe(250);
    expect(sink.messages.map((m) => [m.mailFrom, m.rcptTo])).toEqual([
      ['a@example.org', ['bob@example.net']],
      ['c@example.org', ['dave@example.net']],
    ]);
    expect(sink.connections()).toBe(1);
    expect(Buffer.concat(sink.raw[0]!).toString('latin1')).toContain('RSET\r\n');
    c.close();
  });

  test('null sender, SIZE and BODY parameters are relayed', async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port);
    const c = await greet(proxy.port);
    expect((await c.cmd(`MAIL FROM:<> SIZE=${MESSAGE.length} BODY=8BITMIME`))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write(Buffer.concat([MESSAGE, Buffer.from('.\r\n')]));
    expect((await c.read())?.code).toBe(250);
    expect(sink.messages[0]?.mailFrom).toBe('');
    expect(Buffer.concat(sink.raw[0]!).toString('latin1')).toContain(`MAIL FROM:<> SIZE=${MESSAGE.length} BODY=8BITMIME\r\n`);
    c.close();
  });

  test('smtpd_proxy_filter mode: XFORWARD from upstream.xforwardFrom names the client; from others it is refused', async () => {
    sink = await startSink({ xforward: true });
    proxy = await startProxy(sink.port, { upstream: { xforwardFrom: ['127.0.0.1'] } });
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    // What Postfix sends as a proxy-filter client (SMTPD_PROXY_README): EHLO, XFORWARD, MAIL, RCPT, DATA.
    expect((await c.cmd('EHLO postfix.example.net'))?.text).toContain('XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE');
    expect((await c.cmd('XFORWARD NAME=mail.sender.example ADDR=203.0.113.9 PORT=51234 PROTO=ESMTP HELO=helo.sender.example SOURCE=REMOTE'))?.code).toBe(250);
    const r = await transaction(c, 'alice@example.org', ['bob@example.net'], MESSAGE);
    expect(r.final?.code).toBe(250);
    const wire = Buffer.concat(sink.raw[0]!).toString('latin1');
    // The upstream MTA's NAME is its own verified client name: passed on, and in our Received line.
    expect(wire).toMatch(/XFORWARD PROTO=ESMTP HELO=helo\.sender\.example PORT=51234 .*NAME=mail\.sender\.example ADDR=203\.0\.113\.9\r\n/);
    expect(sink.messages[0]!.data.toString()).toMatch(/^Received: from helo\.sender\.example \(mail\.sender\.example \[203\.0\.113\.9\]\)/);
    c.close();
    await proxy.close();
    proxy = await startProxy(sink.port);
    const d = await RawSmtp.connect(proxy.port);
    await d.read();
    expect((await d.cmd('EHLO postfix.example.net'))?.text).not.toContain('XFORWARD');
    expect((await d.cmd('XFORWARD ADDR=203.0.113.9'))?.code).toBe(550);
    d.close();
  });
});
