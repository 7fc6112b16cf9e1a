/**
 * Downstream protocol details the smtp-server test sink cannot produce, against a scripted raw
 * downstream (real sockets: a raw client → the proxy → the scripted downstream):
 * - a multi-line reply (RFC 5321 §4.2.1: `code-text` lines, then `code text`) reaches the client
 *   as the same multi-line reply, line for line, at MAIL, RCPT and the end of DATA;
 * - a downstream offering CHUNKING gets the message with `BDAT <n> LAST` (RFC 3030), byte for byte;
 * - reply deadlines run only while a reply is awaited (one reusable timer per connection).
 */
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { scriptedDownstream } from '../helpers/scripted-downstream.js';

/** Everything the client received, as text (to check the exact reply lines on the wire). */
function wireOf(c: RawSmtp): () => string {
  const chunks: Buffer[] = [];
  c.socket.on('data', (b: Buffer) => chunks.push(b));
  return () => Buffer.concat(chunks).toString('latin1');
}

describe('multi-line downstream replies', () => {
  let ds: Awaited<ReturnType<typeof scriptedDownstream>> | undefined;
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    await ds?.close();
    proxy = ds = undefined;
  });

  test('RCPT, MAIL and DATA refusals keep every line, in order, with the downstream code', async () => {
    ds = await scriptedDownstream({
      mail: (l) => (l.includes('<blocked@') ? '553-5.7.1 Sender address rejected:\r\n553-5.7.1 see https://postmaster.example/553\r\n553 5.7.1 for details\r\n' : '250 2.1.0 Ok\r\n'),
      rcpt: (l) =>
        l.includes('<gone@')
          ? '550-5.1.1 The email account that you tried to reach does not exist.\r\n550-5.1.1 Please try double-checking the recipient\'s email\r\n550 5.1.1 address for typos. x1-2\r\n'
          : '250 2.1.5 Ok\r\n',
      final: '554-5.7.1 Message rejected:\r\n554-5.7.1 a \rbare CR inside a line must not split it\r\n554 5.7.1 policy\r\n',
    });
    proxy = await startProxy(ds.port);
    const c = await RawSmtp.connect(proxy.port);
    const wire = wireOf(c);
    expect((await c.read())?.code).toBe(220);
    expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);

    expect(await c.cmd('MAIL FROM:<blocked@example.org>')).toEqual({
      code: 553,
      text: '5.7.1 Sender address rejected:\n5.7.1 see https://postmaster.example/553\n5.7.1 for details',
    });
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect(await c.cmd('RCPT TO:<gone@example.net>')).toEqual({
      code: 550,
      text: "5.1.1 The email account that you tried to reach does not exist.\n5.1.1 Please try double-checking the recipient's email\n5.1.1 address for typos. x1-2",
    });
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: hi\r\n\r\nbody\r\n.\r\n');
    expect(await c.read()).toEqual({ code: 554, text: '5.7.1 Message rejected:\n5.7.1 a  bare CR inside a line must not split it\n5.7.1 policy' });

    // On the wire: `code-` continuation lines and a final `code ` line, CRLF only (RFC 5321 §4.2.1).
    const w = wire();
    expect(w).toContain('\r\n550-5.1.1 The email account that you tried to reach does not exist.\r\n550-5.1.1 Please try double-checking the recipient\'s email\r\n550 5.1.1 address for typos. x1-2\r\n');
    expect(w).toContain('\r\n553-5.7.1 Sender address rejected:\r\n553-5.7.1 see https://postmaster.example/553\r\n553 5.7.1 for details\r\n');
    expect(w).toContain('\r\n554-5.7.1 Message rejected:\r\n554-5.7.1 a  bare CR inside a line must not split it\r\n554 5.7.1 policy\r\n');
    expect(w.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    c.close();
  });

  test('a single-line downstream reply stays one line', async () => {
    ds = await scriptedDownstream({ rcpt: () => '450 4.2.1 Mailbox busy\r\n' });
    proxy = await startProxy(ds.port);
    const c = await RawSmtp.connect(proxy.port);
    const wire = wireOf(c);
    await c.read();
    await c.cmd('EHLO client.example.org');
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect(await c.cmd('RCPT TO:<bob@example.net>')).toEqual({ code: 450, text: '4.2.1 Mailbox busy' });
    expect(wire()).toContain('\r\n450 4.2.1 Mailbox busy\r\n');
    c.close();
  });

  test('CHUNKING offered: the message goes as one BDAT LAST chunk, byte for byte, without dot-stuffing', async () => {
    ds = await scriptedDownstream({ chunking: true, final: '250 2.0.0 Ok: queued as BDAT1\r\n' });
    proxy = await startProxy(ds.port);
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO client.example.org');
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    const message = 'Subject: dots\r\n\r\n.leading dot\r\n..two\r\nend\r\n';
    c.write(message.replace(/^\./gm, '..') + '.\r\n');
    expect(await c.read()).toEqual({ code: 250, text: '2.0.0 Ok: queued as BDAT1' });
    const got = Buffer.concat(ds.chunks).toString('latin1');
    // Our Received field, then the client's message exactly as it meant it (unstuffed).
    expect(got).toMatch(/^Received: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example /);
    expect(got.endsWith('\r\n' + message)).toBe(true);
    const bdat = ds.received.filter((l) => /^(BDAT|DATA)/i.test(l));
    expect(bdat).toEqual([`BDAT ${Buffer.byteLength(got, 'latin1')} LAST`]);
    c.close();
  });

  test('downstream.chunking: false keeps DATA even when CHUNKING is offered', async () => {
    ds = await scriptedDownstream({ chunking: true });
    proxy = await startProxy(ds.port, { downstream: { chunking: false } });
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO client.example.org');
    await c.cmd('MAIL FROM:<alice@example.org>');
    await c.cmd('RCPT TO:<bob@example.net>');
    await c.cmd('DATA');
    c.write('Subject: x\r\n\r\ny\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    expect(ds.received.filter((l) => /^(BDAT|DATA)/i.test(l))).toEqual(['DATA']);
    c.close();
  });

  test('reply deadlines: an idle downstream connection outlives commandTimeoutMs; a silent RCPT gets 451 4.4.1', async () => {
    // An empty script reply means: say nothing (the downstream hangs on that command).
    ds = await scriptedDownstream({ rcpt: (l) => (l.includes('<slow@') ? '' : '250 2.1.5 Ok\r\n') });
    proxy = await startProxy(ds.port, { downstream: { commandTimeoutMs: 200 } });
    const c = await RawSmtp.connect(proxy.port);
    await c.read();
    await c.cmd('EHLO client.example.org');
    const send = async (rcpt: string) => {
      expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
      const r = await c.cmd(`RCPT TO:<${rcpt}>`);
      if (r?.code !== 250) return r;
      expect((await c.cmd('DATA'))?.code).toBe(354);
      c.write('Subject: x\r\n\r\ny\r\n.\r\n');
      return c.read();
    };
    expect((await send('bob@example.net'))?.code).toBe(250);
    // Idle for longer than the command deadline: the deadline only runs while a reply is awaited.
    await new Promise((r) => setTimeout(r, 500));
    expect((await send('carol@example.net'))?.code).toBe(250);
    expect(ds.connections()).toBe(1);
    expect(await send('slow@example.net')).toEqual({ code: 451, text: '4.4.1 Downstream server unavailable, please try again later' });
    c.close();
  });
});
