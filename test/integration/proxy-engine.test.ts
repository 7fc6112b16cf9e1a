/**
 * The engine hook point: the proxy calls the FilterEngine at every stage and translates its
 * decisions through the reply table. The engine here is a test double of our own interface
 * (core/engine-api.ts), recording calls; SMTP client and downstream are real.
 */
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { CONTINUE, type DataResult, type FilterEngine, type StageResult } from '../../src/core/engine-api.js';
import type { Verdict } from '../../src/core/types.js';

interface Script {
  rcpt?: (to: string) => StageResult;
  data?: (msg: Buffer) => DataResult;
}

function recordingEngine(script: Script, calls: string[]): FilterEngine {
  const accept: Verdict = { action: 'accept', score: 0, required: 6, symbols: [] };
  return {
    open(frontend, id) {
      calls.push(`open:${frontend}`);
      return {
        id: id ?? 'x',
        connect: async (c) => (calls.push(`connect:${c.ip}`), CONTINUE),
        helo: async (h) => (calls.push(`helo:${h}`), CONTINUE),
        mail: async (f) => (calls.push(`mail:${f}`), CONTINUE),
        rcpt: async (t) => (calls.push(`rcpt:${t}`), script.rcpt?.(t) ?? CONTINUE),
        data: async (m) => (calls.push(`data:${m.length}`), script.data?.(m) ?? { verdict: accept, prependHeaders: [], removeHeader: () => false }),
        delivered: (o) => void calls.push(`delivered:${o.accepted}:${o.code}`),
        reset: () => void calls.push('reset'),
        close: () => void calls.push('close'),
      };
    },
  };
}

async function greet(port: number) {
  const c = await RawSmtp.connect(port);
  await c.read();
  await c.cmd('EHLO client.example.org');
  return c;
}

describe('engine hook point', () => {
  let sink: Sink;
  let proxy: Harness | undefined;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  test('every stage is called in order; a RCPT decision → 550 with the reply-table text, not relayed', async () => {
    const calls: string[] = [];
    const engine = recordingEngine({ rcpt: (t) => (t.startsWith('spamtrap@') ? { action: 'reject', reason: 'spam trap' } : CONTINUE) }, calls);
    proxy = await startProxy(sink.port, {}, engine);
    const before = sink.raw.length;
    const c = await greet(proxy.port);
    expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect(await c.cmd('RCPT TO:<spamtrap@example.net>')).toEqual({ code: 550, text: '5.7.1 Message rejected as spam: spam trap' });
    expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write('Subject: x\r\n\r\ny\r\n.\r\n');
    expect((await c.read())?.code).toBe(250);
    await c.cmd('QUIT');
    await c.waitClosed();
    // close runs after the socket closed; wait for it without sleeping on a clock.
    while (!calls.includes('close')) await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([
      'open:smtp',
      'connect:127.0.0.1',
      'helo:client.example.org',
      'mail:alice@example.org',
      'rcpt:spamtrap@example.net',
      'rcpt:bob@example.net',
      'data:17',
      'delivered:true:250',
      'reset',
      'close',
    ]);
    expect(Buffer.concat(sink.raw.slice(before).flat()).toString('latin1')).not.toContain('spamtrap');
  });

  test('verdict reject / greylist → table reply after the dot, nothing delivered, downstream RSET', async () => {
    const calls: string[] = [];
    let action: Verdict['action'] = 'reject';
    const engine = recordingEngine({ data: () => ({ verdict: { action, score: 20, required: 6, symbols: [{ name: 'GTUBE', score: 20, options: [] }] }, prependHeaders: [], removeHeader: () => false }) }, calls);
    proxy = await startProxy(sink.port, {}, engine);
    const before = sink.messages.length;
    const c = await greet(proxy.port);
    for (const expected of [
      { code: 550, text: '5.7.1 Message rejected as spam' },
      { code: 451, text: '4.7.1 Greylisted, please try again later' },
    ]) {
      await c.cmd('MAIL FROM:<alice@example.org>');
      await c.cmd('RCPT TO:<bob@example.net>');
      await c.cmd('DATA');
      c.write('Subject: x\r\n\r\ny\r\n.\r\n');
      expect(await c.read()).toEqual(expected);
      action = 'greylist';
    }
    expect(sink.messages.length).toBe(before);
    expect(Buffer.concat(sink.raw[sink.raw.length - 1]!).toString('latin1')).toMatch(/RCPT TO:<bob@example\.net>\r\nRSET\r\n/);
    c.close();
  });

  test('tag: prepended headers on top, removeHeader applied, Subject rewritten, everything else byte for byte', async () => {
    const engine = recordingEngine(
      {
        data: () => ({
          verdict: { action: 'tag', score: 7, required: 6, symbols: [] },
          prependHeaders: ['X-Spam-Flag: YES', 'X-Spam-Status: Yes, score=7.0 required=6.0\r\n\ttests=FOO'],
          removeHeader: (name, value) => name === 'x-spam-flag' || (name === 'authentication-results' && value.startsWith('mx.test.example;')),
          newSubject: '[SPAM] hello',
        }),
      },
      [],
    );
    proxy = await startProxy(sink.port, {}, engine);
    const original = [
      'Authentication-Results: mx.test.example; spf=pass',
      'Authentication-Results: other.example; dkim=pass',
      'X-Spam-Flag: NO',
      'Subject: hello',
      'X-Folded: a',
      '\tb',
      '',
      'X-Spam-Flag: in the body stays',
      '',
    ].join('\r\n');
    const c = await greet(proxy.port);
    await c.cmd('MAIL FROM:<alice@example.org>');
    await c.cmd('RCPT TO:<bob@example.net>');
    await c.cmd('DATA');
    c.write(original + '.\r\n');
    expect((await c.read())?.code).toBe(250);
    const got = sink.messages[sink.messages.length - 1]!.data.toString('latin1');
    const [top, rest] = [got.slice(0, got.indexOf('Received:')), got.slice(got.indexOf('\r\nAuthentication-Results: other') + 2)];
    expect(top).toBe('X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=7.0 required=6.0\r\n\ttests=FOO\r\n');
    expect(rest).toBe(['Authentication-Results: other.example; dkim=pass', 'Subject: [SPAM] hello', 'X-Folded: a', '\tb', '', 'X-Spam-Flag: in the body stays', ''].join('\r\n'));
    c.close();
  });

  test('an engine that throws → 451 4.7.1 tempfail, nothing delivered', async () => {
    const engine = recordingEngine(
      {
        data: () => {
          throw new Error('boom');
        },
      },
      [],
    );
    proxy = await startProxy(sink.port, {}, engine);
    const before = sink.messages.length;
    const c = await greet(proxy.port);
    await c.cmd('MAIL FROM:<alice@example.org>');
    await c.cmd('RCPT TO:<bob@example.net>');
    await c.cmd('DATA');
    c.write('Subject: x\r\n\r\ny\r\n.\r\n');
    expect(await c.read()).toEqual({ code: 451, text: '4.7.1 Temporary local problem, please try again later' });
    expect(sink.messages.length).toBe(before);
    c.close();
  });
});
