/**
 * SMTP smuggling and line-ending defence (RFC 5321 §2.3.8, §4.1.1.4; FIELD-NOTES §3): every
 * non-canonical end-of-data sequence, with a second transaction pipelined after it, is refused
 * with 550 5.6.0 after the real dot and never reaches the downstream as one or two messages.
 */
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';

// hannob/smtpsmug and The-Login/SMTP-Smuggling-Tools sequences.
const SEQUENCES: [string, string][] = [
  ['LF.LF', '\n.\n'],
  ['CR.CR', '\r.\r'],
  ['CR.LF', '\r.\n'],
  ['LF.CR', '\n.\r'],
  ['LF.CRLF', '\n.\r\n'],
  ['CRLF.LF', '\r\n.\n'],
  ['CR.CRLF', '\r.\r\n'],
  ['CRLF.CR', '\r\n.\r'],
  ['CRLF NUL.CRLF', '\r\n\x00.\r\n'],
  ['CRLF.NUL CRLF', '\r\n.\x00\r\n'],
  ['CRLF.CR CRLF', '\r\n.\r\r\n'],
  ['CR CRLF.CR CRLF', '\r\r\n.\r\r\n'],
];

const SMUGGLED = 'MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nFrom: ceo@victim.example\r\nSubject: smuggled\r\n\r\nwire the money\r\n';

function payload(seq: string): Buffer {
  return Buffer.from(`From: alice@example.org\r\nSubject: hello\r\n\r\nfirst message${seq}${SMUGGLED}\r\n.\r\n`, 'latin1');
}

async function openTransaction(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  expect((await c.read())?.code).toBe(220);
  expect((await c.cmd('EHLO client.example.org'))?.code).toBe(250);
  expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
  expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
  expect((await c.cmd('DATA'))?.code).toBe(354);
  return c;
}

const BAD = { code: 550, text: '5.6.0 Message contains bare CR, bare LF or NUL; refused (RFC 5321 section 2.3.8)' };

describe('smuggling defence', () => {
  let sink: Sink;
  let proxy: Harness;
  beforeAll(async () => {
    sink = await startSink();
    proxy = await startProxy(sink.port);
  });
  afterAll(async () => {
    await proxy.close();
    await sink.close();
  });

  test.each(SEQUENCES)('%s in one write → 550 5.6.0, nothing relayed, session goes on', async (_name, seq) => {
    const before = sink.messages.length;
    const c = await openTransaction(proxy.port);
    c.write(payload(seq));
    expect(await c.read()).toEqual(BAD);
    // The smuggled commands were message content, not commands: the next reply is for our NOOP.
    expect((await c.cmd('NOOP'))?.code).toBe(250);
    expect(sink.messages.length).toBe(before);
    // A clean transaction afterwards is delivered once, as itself.
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: clean\r\n\r\nok\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    expect(sink.messages.length).toBe(before + 1);
    expect(sink.messages[before]!.data.toString('latin1')).toMatch(/\r\nSubject: clean\r\n\r\nok\r\n$/);
    expect(sink.messages.some((m) => m.mailFrom === 'ceo@victim.example')).toBe(false);
    c.close();
  });

  test.each(SEQUENCES)('%s split over TCP segments at the sequence → 550 5.6.0, nothing relayed', async (_name, seq) => {
    const before = sink.messages.length;
    const c = await openTransaction(proxy.port);
    const pieces = ['From: a@example.org\r\n\r\nfirst message', ...seq.split(''), SMUGGLED, '\r\n.\r\n'];
    for (const p of pieces) {
      c.write(Buffer.from(p, 'latin1'));
      // Pace the writes so they arrive as separate segments (not a timing assertion).
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(await c.read()).toEqual(BAD);
    expect((await c.cmd('NOOP'))?.code).toBe(250);
    expect(sink.messages.length).toBe(before);
    c.close();
  });

  test('real end of data with a second transaction pipelined behind it → exactly the two real messages', async () => {
    const before = sink.messages.length;
    const c = await openTransaction(proxy.port);
    c.write('Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n');
    expect((await c.read())?.code).toBe(250);
    expect((await c.read())?.code).toBe(250);
    expect((await c.read())?.code).toBe(250);
    expect((await c.read())?.code).toBe(354);
    c.write('Subject: two\r\n\r\nsecond\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    expect(sink.messages.slice(before).map((m) => m.rcptTo)).toEqual([['bob@example.net'], ['carol@example.net']]);
    c.close();
  });

  test('a bare LF in the headers, a lone trailing CR and a NUL byte are refused too', async () => {
    for (const body of ['Subject: x\nFrom: y\r\n\r\nz\r\n', 'Subject: x\r\n\r\nz\r\r\n', 'Subject: x\r\n\r\nz\x00z\r\n']) {
      const before = sink.messages.length;
      const c = await openTransaction(proxy.port);
      c.write(body + '.\r\n');
      expect(await c.read()).toEqual(BAD);
      expect(sink.messages.length).toBe(before);
      c.close();
    }
  });

  test('what reaches the downstream is re-dot-stuffed CRLF: no bare CR or LF on the wire', async () => {
    const before = sink.raw.length;
    const c = await openTransaction(proxy.port);
    c.write('Subject: dots\r\n\r\n..\r\n...x\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    // The proxy keeps one downstream connection per client connection: the last one is ours.
    const wire = Buffer.concat(sink.raw[sink.raw.length - 1]!).toString('latin1');
    expect(sink.raw.length).toBe(before + 1);
    expect(wire).toContain('\r\nSubject: dots\r\n\r\n..\r\n...x\r\n.\r\n');
    expect(/[^\r]\n|\r[^\n]/.test(wire)).toBe(false);
    c.close();
  });
});
