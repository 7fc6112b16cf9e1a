/**
 * The real engine (shipped rules, policy lists, embedded stores) wired into the real SMTP proxy:
 * a real SMTP client → proxy on 127.0.0.1:0 → sink downstream. No DNS: the DNS-based checks are
 * off here (they have their own suites against a loopback DNS server).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { buildEngine } from '../../src/app/build-engine.js';
import { configSchema } from '../../src/config/schema.js';
import type { Engine } from '../../src/core/engine.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const message = (body: string, extraHeaders = '') =>
  `From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\nDate: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: <${Date.now()}.1@example.org>\r\n${extraHeaders}\r\n${body}\r\n`;

let sink: Sink;
let proxy: Harness | undefined;
let engine: Engine | undefined;

async function start(overrides: Record<string, unknown> = {}) {
  const base = {
    hostname: 'mx.test.example',
    rules: { paths: [path.join(ROOT, 'rules')], watch: false },
    checks: { spf: { enabled: false }, auth: { enabled: false }, helo: { enabled: false }, fcrdns: { enabled: false }, sender_domain: { enabled: false }, ratelimit: { enabled: false }, reputation: { enabled: false } },
    ...overrides,
  };
  const config = configSchema.parse({ ...base, listen: ['127.0.0.1:0'] });
  engine = await buildEngine({ config, file: '(test)', baseDir: ROOT }, { log: silentLogger, metrics: createMetrics() });
  proxy = await startProxy(sink.port, base as never, engine);
  const c = await RawSmtp.connect(proxy.port);
  await c.read();
  await c.cmd('EHLO client.example.org');
  return c;
}

async function send(c: RawSmtp, from: string, rcpts: string[], msg: string) {
  const replies = [await c.cmd(`MAIL FROM:<${from}>`)];
  for (const r of rcpts) replies.push(await c.cmd(`RCPT TO:<${r}>`));
  const data = await c.cmd('DATA');
  if (data?.code !== 354) return { replies, data };
  c.write(msg.replace(/^\./gm, '..') + '.\r\n');
  return { replies, data, final: await c.read() };
}

beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());
afterEach(async () => {
  await proxy?.close();
  await engine?.close();
  proxy = undefined;
  engine = undefined;
});

describe('engine behind the SMTP proxy', () => {
  test('GTUBE is rejected end to end with 550 5.7.1 and never relayed', async () => {
    const c = await start();
    const before = sink.messages.length;
    const r = await send(c, 'alice@example.org', ['bob@example.net'], message(`Hi\r\n${GTUBE}`));
    expect(r.final?.code).toBe(550);
    expect(r.final?.text).toMatch(/^5\.7\.1 Message rejected as spam/);
    expect(sink.messages.length).toBe(before);
    c.close();
  });

  test('relayed mail carries our verdict headers; pre-set copies and forged A-R are removed', async () => {
    const c = await start();
    const forged = 'X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-100\r\nAuthentication-Results: mx.test.example; spf=pass smtp.mailfrom=example.org\r\nAuthentication-Results: upstream.example; dkim=pass\r\n';
    const r = await send(c, 'alice@example.org', ['bob@example.net'], message('Lunch tomorrow?', forged));
    expect(r.final?.code).toBe(250);
    const got = sink.messages[sink.messages.length - 1]!.data.toString('latin1');
    const head = got.slice(0, got.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^X-Spam-Flag: NO\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Level:.*\r\nX-Spam-Status: No, score=/);
    expect(head.match(/^X-Spam-Flag:/gm)).toHaveLength(1);
    expect(head.match(/^X-Spam-Status:/gm)).toHaveLength(1);
    expect(head).not.toContain('score=-100');
    expect(head).not.toContain('Authentication-Results: mx.test.example;');
    expect(head).toContain('Authentication-Results: upstream.example; dkim=pass');
    c.close();
  });

  test('tag: X-Spam-Flag YES and the subject prefix', async () => {
    const c = await start({ scores: { GTUBE: 7 }, actions: { subjectPrefix: '[SPAM] ' } });
    const r = await send(c, 'alice@example.org', ['bob@example.net'], message(GTUBE));
    expect(r.final?.code).toBe(250);
    const got = sink.messages[sink.messages.length - 1]!.data.toString('latin1');
    expect(got).toMatch(/^X-Spam-Flag: YES\r\n/);
    expect(got).toMatch(/\r\nSubject: \[SPAM\] hello\r\n/);
    expect(got).toMatch(/X-Spamgate-Symbols: GTUBE\(7\.00\)/);
    c.close();
  });

  test('policy: a block-listed sender is refused at MAIL; another domain policy gets 452 4.5.3', async () => {
    const c = await start({ policy: { blockSenders: ['spammer.example'], domains: { 'strict.example': { actions: { reject: 5 } } } } });
    expect((await c.cmd('MAIL FROM:<x@spammer.example>'))).toEqual({ code: 550, text: '5.7.1 Rejected by local policy' });
    await c.cmd('RSET');
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<a@strict.example>'))?.code).toBe(250);
    expect(await c.cmd('RCPT TO:<b@other.example>')).toEqual({ code: 452, text: '4.5.3 Recipients of another domain policy, please send them in a separate transaction' });
    expect((await c.cmd('RCPT TO:<c@strict.example>'))?.code).toBe(250);
    c.close();
  });
});
