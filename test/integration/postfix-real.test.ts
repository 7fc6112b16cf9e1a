/**
 * spamgate against a real Postfix (the installed Debian package), both ways docs/postfix.md
 * describes, on loopback only. One private Postfix instance (test/helpers/postfix-instance.ts)
 * with three smtpd listeners relays everything it queues to an smtp-server sink, so the test reads
 * the delivered bytes; Postfix's own maillog shows what it saw (commands, XFORWARD, refusals).
 *
 *  A. client (nodemailer, from 127.0.0.2) → spamgate → Postfix `downstream` listener (PIPELINING,
 *     CHUNKING, XFORWARD authorised) → queue → sink. BDAT (default) and DATA
 *     (`downstream.chunking: false`); a recipient Postfix refuses reaches the client with
 *     Postfix's own code and text while the other recipient is delivered. And the docs' setup
 *     with XCLIENT (`downstream_xclient` listener): Postfix takes the client as its own.
 *     Note: XFORWARD is for Postfix's logs only (orig_client=, orig_queue_id=); its Received
 *     line always names the real connection (spamgate), only XCLIENT changes that.
 *  B. client → Postfix `front` listener with `smtpd_proxy_filter` = spamgate (real engine, shipped
 *     rules) → Postfix `afterfilter` listener → queue → sink: GTUBE refused to the client with
 *     spamgate's 550 through Postfix, a clean message delivered.
 *
 * Runs as root with Postfix installed (CI: .ci/run); otherwise skipped with the reason printed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { buildEngine } from '../../src/app/build-engine.js';
import { configSchema } from '../../src/config/schema.js';
import type { Engine } from '../../src/core/engine.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { postfixUnavailable, startPostfix, type PostfixInstance } from '../helpers/postfix-instance.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { startSink, type Sink, type SinkMessage } from '../helpers/smtp-sink.js';

jest.setTimeout(120_000);

const ROOT = path.resolve(import.meta.dirname, '../..');
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
/** The sending client's address: not the proxy's 127.0.0.1, so XFORWARD is visible downstream. */
const CLIENT_IP = '127.0.0.2';
const CLIENT_HELO = 'client.example.org';

const skipReason = postfixUnavailable();
if (skipReason) process.stdout.write(`postfix-real.test.ts skipped: ${skipReason}\n`);
const describeReal = skipReason ? describe.skip : describe;

let sink: Sink;
let pf: PostfixInstance;
let seq = 0;

/** Waits on the sink (Postfix delivers asynchronously from its queue): a bound, not a timing assertion. */
async function delivered(marker: string, timeoutMs = 90_000): Promise<SinkMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = sink.messages.find((x) => x.data.includes(marker));
    if (m) return m;
    if (Date.now() > until) throw new Error(`message ${marker} never reached the sink; Postfix log:\n${pf.log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A message whose body would be damaged by a careless relay: leading dots (dot-stuffing), a lone
 * dot, trailing blanks, 8-bit UTF-8, a 990-octet line, and ~230 kB so it spans many segments.
 */
function message(marker: string, to: string, extraBody = ''): string {
  const filler: string[] = [];
  for (let i = 0; i < 3000; i++) filler.push(`${String(i).padStart(5, '0')} ${'abcdefghijklmnopqrstuvwxyz'.repeat(2)}0123456789abcdefghi`);
  return [
    'From: Alice <alice@example.org>',
    `To: <${to}>`,
    `Subject: postfix-real ${marker}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${marker}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `marker ${marker}`,
    '.',
    '..',
    '.leading dot',
    'trailing blanks  \t ',
    '\ttab first',
    'Grüße aus Köln — ✓',
    'x'.repeat(990),
    'From the start of a line',
    '',
    extraBody,
    ...filler,
    '.',
    '',
  ].join('\r\n');
}

function client(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: CLIENT_HELO, localAddress: CLIENT_IP });
}

/** The first match of `re` in the maillog after the first match of `anchor` (waits for both). */
async function logAfter(anchor: RegExp, re: RegExp): Promise<RegExpMatchArray> {
  const a = await pf.waitForLog(anchor);
  const until = Date.now() + 60_000;
  for (;;) {
    const rest = pf.log().slice(a.index! + a[0].length);
    const m = re.exec(rest);
    if (m) return m;
    if (Date.now() > until) throw new Error(`Postfix log: no ${re} after ${anchor}:\n${pf.log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  if (skipReason) return;
  sink = await startSink();
  pf = await startPostfix({
    relayTo: { host: '127.0.0.1', port: sink.port },
    files: {
      recipient_access: 'refused@example.net REJECT Refused by the test map\n',
      // Cyrus SASL for the downstream_auth listener: any mechanism makes Postfix offer AUTH; nobody
      // logs in (spamgate has no SMTP AUTH client), it is only there so MAIL FROM AUTH= is accepted.
      'smtpd.conf': 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n',
    },
    // Where the `front` listener's smtpd_proxy_filter points; set once spamgate listens (mode B).
    main: { spamgate_filter: '127.0.0.1:9' },
    smtpd: {
      // Mode A: spamgate's downstream (docs/postfix.md A, XFORWARD only).
      downstream: {
        options: {
          smtpd_authorized_xforward_hosts: '127.0.0.0/8',
          smtpd_recipient_restrictions: 'check_recipient_access,texthash:$config_directory/recipient_access,permit_mynetworks,reject_unauth_destination',
        },
      },
      // Mode A with SMTP AUTH offered (RFC 4954, smtpd_sasl_auth_enable): only then does spamgate
      // pass MAIL FROM AUTH= on (the other listeners do not offer AUTH and get none).
      downstream_auth: {
        options: {
          smtpd_sasl_auth_enable: 'yes',
          smtpd_sasl_type: 'cyrus',
          smtpd_sasl_path: 'smtpd',
          cyrus_sasl_config_path: '$config_directory',
          smtpd_authorized_xforward_hosts: '127.0.0.0/8',
        },
      },
      // Mode A as docs/postfix.md configures it: XCLIENT and XFORWARD from spamgate's address only.
      downstream_xclient: { options: { smtpd_authorized_xclient_hosts: '127.0.0.1', smtpd_authorized_xforward_hosts: '127.0.0.1' } },
      // Mode B: the public listener and the after-filter listener, as in docs/postfix.md B.
      front: { options: { smtpd_proxy_filter: '$spamgate_filter', smtpd_client_connection_count_limit: '10' } },
      afterfilter: {
        options: {
          smtpd_authorized_xforward_hosts: '127.0.0.0/8',
          smtpd_client_restrictions: '',
          smtpd_helo_restrictions: '',
          smtpd_sender_restrictions: '',
          smtpd_relay_restrictions: '',
          smtpd_recipient_restrictions: 'permit_mynetworks,reject',
          smtpd_data_restrictions: '',
          mynetworks: '127.0.0.0/8',
          receive_override_options: 'no_unknown_recipient_checks',
        },
      },
    },
  });
  process.stdout.write(`postfix-real.test.ts: Postfix ${pf.version} in ${pf.dir}, listeners ${JSON.stringify(pf.ports)}\n`);
}, 180_000);

afterAll(async () => {
  await pf?.stop();
  await sink?.close();
}, 60_000);

describeReal('A. spamgate → real Postfix as the downstream', () => {
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  const relay = (chunking: boolean) =>
    startProxy(pf.ports.downstream!, { downstream: { chunking, xforward: true, xclient: false, commandTimeoutMs: 60_000, dataTimeoutMs: 90_000 } });

  test.each([
    ['BDAT (downstream.chunking default)', true, 'bdat=1'],
    ['DATA (downstream.chunking: false)', false, 'data=1'],
  ])('%s: accepted by Postfix, delivered byte for byte, XFORWARD in its log', async (_name, chunking, command) => {
    proxy = await relay(chunking);
    const marker = `pfreal-a${++seq}-${Date.now()}`;
    const raw = message(marker, 'good@example.net');
    const info = await client(proxy.port).sendMail({ envelope: { from: 'alice@example.org', to: ['good@example.net'] }, raw });
    expect(info.accepted).toEqual(['good@example.net']);
    // Postfix's own 250, passed through by spamgate (after BDAT Postfix also says how many octets).
    const reply = /^250 2\.0\.0 Ok: (?:(\d+) bytes )?queued as ([0-9A-Za-z]+)$/.exec(info.response);
    expect(reply).not.toBeNull();
    const [, octets, qid] = reply!;

    const got = await delivered(marker);
    expect(got.rcptTo).toEqual(['good@example.net']);
    const data = got.data.toString('latin1');
    // Postfix's Received line (the real connection: spamgate on 127.0.0.1; XFORWARD never changes
    // it, only XCLIENT would), then spamgate's naming the client, then the message byte for byte.
    const head = new RegExp(
      `^Received: from mx\\.test\\.example \\(unknown \\[127\\.0\\.0\\.1\\]\\)\r\n\tby pf\\.test\\.example \\(Postfix\\) with ESMTP id ${qid}\r\n\tfor <good@example\\.net>; [^\r]+\r\n` +
        `(Received: from ${esc(CLIENT_HELO)} \\(\\[${esc(CLIENT_IP)}\\]\\)\r\n\tby mx\\.test\\.example \\(spamgate\\) with ESMTP id (\\w+)\r\n\tfor <good@example\\.net>;\r\n\t[^\r]+\r\n)`,
    ).exec(data);
    expect(head).not.toBeNull();
    // (latin1: one character per octet, so string lengths are octet counts)
    expect(got.data.subarray(head![0].length).equals(Buffer.from(raw))).toBe(true);
    // BDAT: Postfix counted exactly the octets spamgate sent (its Received line + the message).
    if (chunking) expect(Number(octets)).toBe(head![1]!.length + Buffer.byteLength(raw));
    else expect(octets).toBeUndefined();
    // XFORWARD honoured: Postfix logs the original client and spamgate's session id (XFORWARD_README).
    const spamgateId = head![2]!;
    const qline = await pf.waitForLog(new RegExp(`postfix/downstream/smtpd\\[(\\d+)\\]: ${qid}: client=unknown\\[127\\.0\\.0\\.1\\], orig_queue_id=${spamgateId}, orig_client=unknown\\[${esc(CLIENT_IP)}\\]\n`));
    // Postfix's per-session command counts: the message went with BDAT, or with DATA.
    const disconnect = await logAfter(new RegExp(esc(qline[0])), new RegExp(`postfix/downstream/smtpd\\[${qline[1]}\\]: disconnect from .*`));
    expect(disconnect[0]).toContain(`ehlo=1 xforward=1 mail=1 rcpt=1 ${command} `);
  });

  test('a recipient Postfix refuses gets Postfix\'s code and text; the other one is delivered', async () => {
    proxy = await relay(true);
    const marker = `pfreal-a${++seq}-${Date.now()}`;
    const raw = message(marker, 'good@example.net');
    const info = await client(proxy.port).sendMail({ envelope: { from: 'alice@example.org', to: ['refused@example.net', 'good@example.net'] }, raw });
    expect(info.accepted).toEqual(['good@example.net']);
    expect(info.rejected).toEqual(['refused@example.net']);
    // Exactly the reply Postfix logged for its refusal.
    const logged = await pf.waitForLog(/postfix\/downstream\/smtpd\[\d+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: (554 5\.7\.1 <refused@example\.net>: Recipient address rejected: Refused by the test map); from=<alice@example\.org> to=<refused@example\.net> proto=ESMTP helo=<mx\.test\.example>/);
    expect(info.rejectedErrors?.map((e) => e.response)).toEqual([logged[1]]);
    const got = await delivered(marker);
    expect(got.rcptTo).toEqual(['good@example.net']);
    expect(got.data.subarray(got.data.length - Buffer.byteLength(raw)).equals(Buffer.from(raw))).toBe(true);
  });

  test('XCLIENT (docs/postfix.md A): Postfix takes the original client as its own, Received line included', async () => {
    proxy = await startProxy(pf.ports.downstream_xclient!, { downstream: { xforward: true, xclient: true, commandTimeoutMs: 60_000, dataTimeoutMs: 90_000 } });
    const marker = `pfreal-a${++seq}-${Date.now()}`;
    const raw = message(marker, 'good@example.net');
    const info = await client(proxy.port).sendMail({ envelope: { from: 'alice@example.org', to: ['good@example.net'] }, raw });
    const qid = /^250 2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-Za-z]+)$/.exec(info.response)?.[1];
    expect(qid).toBeDefined();
    const got = await delivered(marker);
    // Postfix's own Received line names the client: XCLIENT set its name and address, and the EHLO
    // spamgate sends after XCLIENT carries the client's HELO name (else Postfix would show ours).
    expect(got.data.toString('latin1', 0, 1000)).toMatch(new RegExp(`^Received: from ${esc(CLIENT_HELO)} \\(unknown \\[${esc(CLIENT_IP)}\\]\\)\r\n\tby pf\\.test\\.example \\(Postfix\\) with ESMTP id ${qid}\r\n`));
    expect(got.data.subarray(got.data.length - Buffer.byteLength(raw)).equals(Buffer.from(raw))).toBe(true);
    const qline = await pf.waitForLog(new RegExp(`postfix/downstream_xclient/smtpd\\[(\\d+)\\]: ${qid}: client=.*`));
    const disconnect = await logAfter(new RegExp(esc(qline[0])), new RegExp(`postfix/downstream_xclient/smtpd\\[${qline[1]}\\]: disconnect from .*`));
    expect(qline[0]).toMatch(new RegExp(`client=unknown\\[${esc(CLIENT_IP)}\\], orig_queue_id=\\w+, orig_client=unknown\\[${esc(CLIENT_IP)}\\]$`));
    // EHLO again after XCLIENT's 220, XFORWARD still accepted (authorised for spamgate's own
    // address, which Postfix checks, not the XCLIENT one), BDAT.
    expect(disconnect[0]).toMatch(new RegExp(`disconnect from unknown\\[${esc(CLIENT_IP)}\\] ehlo=2 xclient=\\S+ xforward=1 mail=1 rcpt=1 bdat=1 `));
  });
});

describeReal('A. MAIL FROM AUTH= to a Postfix that offers AUTH (RFC 4954 §5)', () => {
  let proxy: Harness | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /** One message from 127.0.0.1 (raw: nodemailer cannot send AUTH= in MAIL FROM); the final reply. */
  async function sendRaw(port: number, mailParams: string, marker: string) {
    const c = await RawSmtp.connect(port);
    try {
      await c.read();
      await c.cmd('EHLO client.example.org');
      expect((await c.cmd(`MAIL FROM:<alice@example.org>${mailParams}`))?.code).toBe(250);
      expect((await c.cmd('RCPT TO:<good@example.net>'))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      c.write(`Subject: ${marker}\r\nMessage-ID: <${marker}@example.org>\r\n\r\nmarker ${marker}\r\n.\r\n`);
      const r = await c.read();
      await c.cmd('QUIT');
      return r;
    } finally {
      c.close();
    }
  }

  test('trusted client: Postfix records the submitter (sasl_sender=); untrusted: AUTH=<> accepted, no submitter', async () => {
    const opts = { downstream: { xforward: true, xclient: false, commandTimeoutMs: 60_000, dataTimeoutMs: 90_000 } };
    proxy = await startProxy(pf.ports.downstream_auth!, { ...opts, upstream: { trustAuthFrom: ['127.0.0.1/32'] } });
    const trusted = `pfreal-auth${++seq}-${Date.now()}`;
    const r1 = await sendRaw(proxy.port, ' AUTH=e+3Dmc2+2Bphysics@example.org', trusted);
    const qid1 = /^2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-Za-z]+)$/.exec(r1?.text ?? '')?.[1];
    expect(r1?.code).toBe(250);
    expect(qid1).toBeDefined();
    await delivered(trusted);
    const line1 = await pf.waitForLog(new RegExp(`postfix/downstream_auth/smtpd\\[\\d+\\]: ${qid1}: client=[^\n]*`));
    // What Postfix logs as it received it: it keeps the xtext form (it does not decode AUTH=).
    expect(line1[0]).toContain(', sasl_sender=e+3Dmc2+2Bphysics@example.org');

    await proxy.close();
    proxy = await startProxy(pf.ports.downstream_auth!, opts);
    const untrusted = `pfreal-auth${++seq}-${Date.now()}`;
    const r2 = await sendRaw(proxy.port, ' AUTH=e+3Dmc2+2Bphysics@example.org', untrusted);
    const qid2 = /^2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-Za-z]+)$/.exec(r2?.text ?? '')?.[1];
    expect(r2?.code).toBe(250);
    expect(qid2).toBeDefined();
    await delivered(untrusted);
    const line2 = await pf.waitForLog(new RegExp(`postfix/downstream_auth/smtpd\\[\\d+\\]: ${qid2}: client=[^\n]*`));
    expect(line2[0]).not.toContain('sasl_sender=');
  });
});

describeReal('B. Postfix in front, spamgate as its smtpd_proxy_filter', () => {
  let proxy: Harness | undefined;
  let engine: Engine | undefined;

  beforeAll(async () => {
    // The real engine with the shipped rules; checks needing DNS or stores are off (as in
    // scan-engine-proxy.test.ts): this is about the Postfix wiring, not the checks.
    const base = {
      hostname: 'mx.test.example',
      rules: { paths: [path.join(ROOT, 'rules')], watch: false },
      checks: { spf: { enabled: false }, auth: { enabled: false }, helo: { enabled: false }, fcrdns: { enabled: false }, sender_domain: { enabled: false }, ratelimit: { enabled: false }, reputation: { enabled: false } },
      // docs/postfix.md B: believe Postfix's XFORWARD, relay to the after-filter smtpd.
      upstream: { xforwardFrom: ['127.0.0.1'] },
      downstream: { xforward: true, xclient: false, commandTimeoutMs: 60_000, dataTimeoutMs: 60_000 },
    };
    const config = configSchema.parse({ ...base, listen: ['127.0.0.1:0'] });
    engine = await buildEngine({ config, file: '(test)', baseDir: ROOT }, { log: silentLogger, metrics: createMetrics() });
    proxy = await startProxy(pf.ports.afterfilter!, base as never, engine);
    // New smtpd processes read main.cf: the front listener now proxies to this spamgate.
    await pf.set({ spamgate_filter: `127.0.0.1:${proxy.port}` });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await engine?.close();
  });

  test('GTUBE is refused to the client with spamgate\'s 550 through Postfix; a clean message is delivered', async () => {
    const spam = `pfreal-b${++seq}-${Date.now()}`;
    const err = await client(pf.ports.front!)
      .sendMail({ envelope: { from: 'alice@example.org', to: ['good@example.net'] }, raw: message(spam, 'good@example.net', GTUBE) })
      .then(
        () => undefined,
        (e: Error & { responseCode?: number; response?: string }) => e,
      );
    expect(err?.responseCode).toBe(550);
    expect(err?.response).toMatch(/^550 5\.7\.1 Message rejected as spam/);
    // Postfix logs the filter's refusal as its own (SMTPD_PROXY_README).
    await pf.waitForLog(/postfix\/front\/smtpd\[\d+\]: proxy-reject: END-OF-MESSAGE: 550 5\.7\.1 Message rejected as spam: .*; from=<alice@example\.org> to=<good@example\.net> proto=ESMTP helo=<client\.example\.org>/);
    // spamgate abandoned its after-filter transaction (RSET) instead of relaying the spam.
    await pf.waitForLog(/postfix\/afterfilter\/smtpd\[\d+\]: disconnect from unknown\[127\.0\.0\.1\] ehlo=1 xforward=1 mail=1 rcpt=1 rset=1 /);

    const ham = `pfreal-b${++seq}-${Date.now()}`;
    const raw = message(ham, 'good@example.net');
    const info = await client(pf.ports.front!).sendMail({ envelope: { from: 'alice@example.org', to: ['good@example.net'] }, raw });
    // The client's 250 is the after-filter Postfix's, through spamgate and the front smtpd.
    const qid = /^250 2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-Za-z]+)$/.exec(info.response)?.[1];
    expect(qid).toBeDefined();
    const got = await delivered(ham);
    expect(got.rcptTo).toEqual(['good@example.net']);
    const data = got.data.toString('latin1');
    const headEnd = data.indexOf('\r\n\r\n');
    const head = data.slice(0, headEnd + 2);
    expect(head).toMatch(new RegExp(`^Received: from mx\\.test\\.example \\(unknown \\[127\\.0\\.0\\.1\\]\\)\r\n\tby pf\\.test\\.example \\(Postfix\\) with ESMTP id ${qid}\r\n`));
    // spamgate scanned it (its verdict headers) and saw the real client through Postfix's XFORWARD.
    expect(head).toMatch(/\r\nX-Spam-Flag: NO\r\n/);
    expect(head).toMatch(new RegExp(`\r\nReceived: from ${esc(CLIENT_HELO)} \\(\\[${esc(CLIENT_IP)}\\]\\)\r\n\tby mx\\.test\\.example \\(spamgate\\)`));
    expect(got.data.subarray(got.data.length - Buffer.byteLength(raw)).equals(Buffer.from(raw))).toBe(true);
    // The GTUBE message never reached the after-filter queue or the sink.
    expect(sink.messages.some((m) => m.data.includes(spam))).toBe(false);
    expect(pf.log()).not.toMatch(new RegExp(`message-id=<${spam}@`));
  });
});
