/**
 * A downstream's multi-line 250 at the end of DATA reaches the client as the same multi-line 250
 * (RFC 5321 §4.2.1), with real sockets: a raw client (or nodemailer) → the proxy → a raw scripted
 * downstream (smtp-server as a sink has no public way to answer DATA with several 250 lines, which
 * is the very limitation under test on our side).
 *
 * One reply per DATA on the wire: smtp-server's success path would write one complete reply per
 * array element, so the test also checks that the next command's reply is its own (no extra 250
 * queued behind the multi-line one) — in a pipelined second transaction too (RFC 2920).
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nodemailer from 'nodemailer';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { scriptedDownstream } from '../helpers/scripted-downstream.js';

/** Every message answered with `final`, `#N` replaced by the message number. */
const answering = (final: string) => scriptedDownstream({ final: (n) => final.replace('#N', String(n)) });

const MULTI = '250-2.0.0 Ok: queued as 4XyZ#N\r\n250-2.0.0 note: \rscanned by downstream\r\n250 2.0.0 see you\r\n';

describe('multi-line 250 at the end of DATA', () => {
  let ds: Awaited<ReturnType<typeof answering>> | undefined;
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    await ds?.close();
    proxy = ds = undefined;
  });

  test('the client gets the same lines as one 250 reply, then the next command its own reply', async () => {
    ds = await answering(MULTI);
    proxy = await startProxy(ds.port);
    const c = await RawSmtp.connect(proxy.port);
    const chunks: Buffer[] = [];
    c.socket.on('data', (b: Buffer) => chunks.push(b));
    expect((await c.read())?.code).toBe(220);
    expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: x\r\n\r\nbody\r\n.\r\n');
    expect(await c.read()).toEqual({ code: 250, text: '2.0.0 Ok: queued as 4XyZ1\n2.0.0 note:  scanned by downstream\n2.0.0 see you' });

    // A second transaction pipelined in one write (RFC 2920): each command gets exactly its reply.
    c.write('MAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n');
    expect((await c.read())?.code).toBe(250);
    expect((await c.read())?.code).toBe(250);
    expect((await c.read())?.code).toBe(354);
    c.write('Subject: y\r\n\r\nbody\r\n.\r\nNOOP\r\n');
    expect(await c.read()).toEqual({ code: 250, text: '2.0.0 Ok: queued as 4XyZ2\n2.0.0 note:  scanned by downstream\n2.0.0 see you' });
    expect(await c.read()).toEqual({ code: 250, text: 'OK' }); // smtp-server's own NOOP reply
    expect((await c.cmd('QUIT'))?.code).toBe(221);
    await c.waitClosed();

    // On the wire: `250-` continuation lines and a final `250 ` line, CRLF only, the bare CR gone.
    const w = Buffer.concat(chunks).toString('latin1');
    expect(w).toContain('\r\n250-2.0.0 Ok: queued as 4XyZ1\r\n250-2.0.0 note:  scanned by downstream\r\n250 2.0.0 see you\r\n');
    expect(w.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(ds.messages()).toBe(2);
  });

  test('a single-line 250 stays one line', async () => {
    ds = await answering('250 2.0.0 Ok: queued as ONE#N\r\n');
    proxy = await startProxy(ds.port);
    const c = await RawSmtp.connect(proxy.port);
    const chunks: Buffer[] = [];
    c.socket.on('data', (b: Buffer) => chunks.push(b));
    await c.read();
    await c.cmd('EHLO client.example.org');
    await c.cmd('MAIL FROM:<alice@example.org>');
    await c.cmd('RCPT TO:<bob@example.net>');
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: x\r\n\r\nbody\r\n.\r\n');
    expect(await c.read()).toEqual({ code: 250, text: '2.0.0 Ok: queued as ONE1' });
    expect(Buffer.concat(chunks).toString('latin1')).toContain('\r\n250 2.0.0 Ok: queued as ONE1\r\n');
    c.close();
  });

  test('a real SMTP client library (nodemailer) takes the multi-line 250 as success', async () => {
    ds = await answering(MULTI);
    proxy = await startProxy(ds.port);
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: proxy.port, secure: false, ignoreTLS: true, name: 'client.example.org' });
    const info = await t.sendMail({ from: 'alice@example.org', to: 'bob@example.net', subject: 'x', text: 'body' });
    t.close();
    expect(info.accepted).toEqual(['bob@example.net']);
    // nodemailer keeps a multi-line reply's lines (joined with \n): it read all three as one reply.
    expect(info.response).toBe('250-2.0.0 Ok: queued as 4XyZ1\n250-2.0.0 note:  scanned by downstream\n250 2.0.0 see you');
  });
});
