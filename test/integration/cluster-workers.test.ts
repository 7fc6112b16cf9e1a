/**
 * `workers: 2` through the built CLI (src/app/cluster.ts): two worker processes share the SMTP
 * listener; a worker killed with SIGKILL is restarted and mail keeps flowing; SIGHUP reloads every
 * worker; /metrics (served by the primary) sums both workers' counts; SIGTERM drains the
 * transaction in flight and exits 0; the PROXY protocol gate and connection limits work in workers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pp from 'proxy-protocol-js';
import { DaemonProcess, type LogLine } from '../helpers/daemon-process.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { get } from '../helpers/http-get.js';
import { startRedis } from '../helpers/redis-server.js';

function writeConfig(dir: string, sinkPort: number, limits = 'drainTimeoutMs: 20000', extra = ''): string {
  const file = path.join(dir, 'spamgate.yaml');
  fs.writeFileSync(
    file,
    [
      'listen: ["127.0.0.1:0"]',
      'hostname: mx.test.example',
      'workers: 2',
      'admin: { listen: "127.0.0.1:0" }',
      'dns: { servers: ["127.0.0.1:9"], timeoutMs: 200 }',
      'rules: { paths: [] }',
      'checks: { greylist: { enabled: false } }',
      `downstream: { port: ${sinkPort} }`,
      `limits: { ${limits} }`,
    ].join('\n') + `\n${extra}`,
  );
  return file;
}

const isListening = (l: LogLine) => l.msg === 'worker listening';
const portOf = (l: LogLine) => Number(String((l.smtp as string[])[0]).split(':').pop());

/** Each sendMail without a pool opens its own connection: the cluster spreads them over the workers. */
async function send(port: number, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    // Timeouts far below nodemailer's defaults (socket: 10 min): a stuck session fails its test
    // with nodemailer's error instead of running into the test's timeout.
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      name: 'client.example.org',
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 15_000,
    });
    await t.sendMail({ envelope: { from: 'alice@example.org', to: ['bob@example.net'] }, raw: `Subject: ${tag} ${i}\r\n\r\nbody\r\n` });
    t.close();
  }
}

const metricSum = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

describe('spamgate serve with workers: 2', () => {
  let sink: Sink;
  let dir: string;
  let d: DaemonProcess | undefined;
  beforeAll(async () => {
    sink = await startSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-cluster-'));
  });
  afterEach(async () => {
    await d?.kill();
    d = undefined;
  });
  afterAll(async () => {
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('shared listener, aggregated /metrics, crashed worker restarted, SIGHUP reaches every worker', async () => {
    const file = writeConfig(dir, sink.port);
    d = DaemonProcess.start(file);
    const adminPort = Number(String((await d.waitFor((l) => l.msg === 'admin endpoint listening')).admin).split(':').pop());
    const [w1, w2] = await d.waitForCount(isListening, 2);
    const port = portOf(w1!);
    expect(portOf(w2!)).toBe(port);
    expect((await get(adminPort, '/readyz')).status).toBe(200);
    // No redis.url: each worker has its own embedded store, and the primary says so.
    expect(d.lines.some((l) => l.level === 40 && String(l.msg).startsWith('workers > 1 with the embedded in-memory store'))).toBe(true);
    expect((await get(adminPort, '/history')).status).toBe(501);

    const before = sink.messages.length;
    await send(port, 12, 'first');
    expect(sink.messages.length).toBe(before + 12);
    // Round-robin scheduling: both workers handled mail, and the primary's /metrics sums them.
    const byWorker = new Set(d.lines.filter((l) => l.msg === 'transaction').map((l) => l.worker));
    expect(byWorker).toEqual(new Set([w1!.worker, w2!.worker]));
    let m = await get(adminPort, '/metrics');
    expect(metricSum(m.body, 'spamgate_messages_total')).toBe(12);
    expect(m.body).toMatch(/^spamgate_build_info\{version="[^"]+"\} 1$/m);
    expect(m.body).toMatch(/^spamgate_workers 2$/m);

    // kill -9 one worker: the primary restarts it on the same shared port; mail keeps flowing.
    const victim = Number(w1!.pid);
    process.kill(victim, 'SIGKILL');
    const died = await d.waitFor((l) => l.msg === 'worker died; restarting');
    expect(died).toMatchObject({ pid: victim, signal: 'SIGKILL' });
    const [, , w3] = await d.waitForCount(isListening, 3);
    expect(Number(w3!.pid)).not.toBe(victim);
    expect(portOf(w3!)).toBe(port);
    await send(port, 6, 'after');
    expect(sink.messages.length).toBe(before + 18);
    m = await get(adminPort, '/metrics');
    expect(m.body).toMatch(/^spamgate_worker_restarts_total 1$/m);
    expect(m.body).toMatch(/^spamgate_workers 2$/m);

    // SIGHUP: the primary validates the file once, then every worker reloads it.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('drainTimeoutMs: 20000', 'drainTimeoutMs: 20000, maxMessageSize: 1000'));
    const reloadedBefore = d.lines.filter((l) => l.msg === 'worker reloaded').length;
    d.proc.kill('SIGHUP');
    const reloaded = await d.waitForCount((l) => l.msg === 'worker reloaded', reloadedBefore + 2);
    expect(new Set(reloaded.slice(reloadedBefore).map((l) => l.pid))).toEqual(new Set([w2!.pid, w3!.pid]));
    for (let i = 0; i < 4; i++) {
      const c = await RawSmtp.connect(port);
      await c.read();
      expect((await c.cmd('EHLO x.example'))?.text).toContain('SIZE 1000');
      c.close();
    }
    // A bad file is refused by the primary and never reaches the workers.
    fs.writeFileSync(file, 'listen: [oops\n');
    d.proc.kill('SIGHUP');
    const failed = await d.next((l) => String(l.msg).startsWith('configuration reload failed'));
    expect(failed.worker).toBeUndefined();
    expect(JSON.stringify(failed.problems)).toContain('spamgate.yaml:');
    // Worker start-up (module loading, engine build) takes seconds on a loaded 2-core machine.
  }, 120_000);

  test('SIGTERM: the primary drains every worker (transaction in flight delivered) and exits 0', async () => {
    d = DaemonProcess.start(writeConfig(dir, sink.port));
    const port = portOf((await d.waitForCount(isListening, 2))[0]!);
    const before = sink.messages.length;
    const busy = await RawSmtp.connect(port);
    expect((await busy.read())?.code).toBe(220);
    await busy.cmd('EHLO client.example.org');
    expect((await busy.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await busy.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await busy.cmd('DATA'))?.code).toBe(354);
    busy.write('Subject: drain\r\n\r\nfirst half\r\n');
    d.proc.kill('SIGTERM');
    await d.waitForCount((l) => l.msg === 'draining', 2);
    busy.write('second half\r\n.\r\n');
    expect((await busy.read())?.code).toBe(250);
    expect((await busy.read())?.code).toBe(421);
    expect(await d.exitWithin(30_000)).toBe(0);
    expect(sink.messages.length).toBe(before + 1);
    expect(d.lines.filter((l) => l.msg === 'worker stopped').map((l) => l.code)).toEqual([0, 0]);
  }, 90_000);

  test('PROXY protocol v2 from a trusted balancer is honoured in every worker; per-IP limit shared out', async () => {
    const xsink = await startSink({ xforward: true });
    try {
      // maxClientsPerIp 2 over 2 workers: each worker admits 1 connection per client address.
      d = DaemonProcess.start(writeConfig(dir, xsink.port, 'maxClientsPerIp: 2', 'proxyProtocol: { trusted: ["127.0.0.0/8"] }\n'));
      const port = portOf((await d.waitForCount(isListening, 2))[0]!);
      const header = (last: number, sport: number) =>
        Buffer.from(
          new pp.V2ProxyProtocol(
            pp.Command.PROXY,
            pp.TransportProtocol.STREAM,
            new pp.IPv4ProxyAddress(pp.IPv4Address.createFrom([203, 0, 113, last]), sport, pp.IPv4Address.createFrom([192, 0, 2, 25]), 25),
          ).build(),
        );
      // Four clients behind the balancer, one connection each: round robin puts two on each worker.
      for (let i = 1; i <= 4; i++) {
        const c = await RawSmtp.connect(port, { prefix: header(i, 40000 + i) });
        expect((await c.read())?.code).toBe(220);
        expect((await c.cmd('EHLO lb-client.example'))?.code).toBe(250);
        expect((await c.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
        expect((await c.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
        expect((await c.cmd('DATA'))?.code).toBe(354);
        c.write(`Subject: via LB ${i}\r\n\r\nhello\r\n.\r\n`);
        expect((await c.read())?.code).toBe(250);
        c.close();
      }
      expect(xsink.messages.map((m) => m.xforward.ADDR).sort()).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']);
      expect(new Set(d.lines.filter((l) => l.msg === 'transaction').map((l) => l.worker)).size).toBe(2);
      // Two open connections from one client: one per worker, each at its share (1): both admitted;
      // a third lands on a worker that already has one from that address and is refused.
      const a = await RawSmtp.connect(port, { prefix: header(9, 41001) });
      expect((await a.read())?.code).toBe(220);
      const b = await RawSmtp.connect(port, { prefix: header(9, 41002) });
      expect((await b.read())?.code).toBe(220);
      const c = await RawSmtp.connect(port, { prefix: header(9, 41003) });
      expect((await c.read())?.code).toBe(421);
      for (const x of [a, b, c]) x.close();
      d.proc.kill('SIGTERM');
      expect(await d.exitWithin(30_000)).toBe(0);
    } finally {
      await xsink.close();
    }
  }, 90_000);

  test('with Redis, the primary serves /history from Redis (store layer loaded at the first request)', async () => {
    const redis = await startRedis();
    try {
      const file = writeConfig(dir, sink.port, 'drainTimeoutMs: 5000', `redis: { url: "${redis.url}", prefix: "cw${Date.now()}:" }\n`);
      d = DaemonProcess.start(file);
      const adminPort = Number(String((await d.waitFor((l) => l.msg === 'admin endpoint listening')).admin).split(':').pop());
      const port = portOf((await d.waitForCount(isListening, 2))[0]!);
      // The workers write their verdicts to Redis, the primary reads them. A worker's first
      // messages may come before its Redis connection is up (stores fail open, no offline queue:
      // that history entry is skipped), and the write follows the reply: send until 4 landed
      // (for at most 40 messages or 45 s, so a failure here reports what /history said last).
      let sent = 0;
      const until = Date.now() + 45_000;
      let r = await get(adminPort, '/history?limit=50');
      while (sent < 40 && Date.now() < until && (r.status !== 200 || (JSON.parse(r.body) as unknown[]).length < 4)) {
        await send(port, 1, `history ${sent++}`);
        await new Promise((res) => setTimeout(res, 100));
        r = await get(adminPort, '/history?limit=50');
      }
      expect({ sent, status: r.status, body: r.body.slice(0, 300) }).toMatchObject({ status: 200 });
      const rows = JSON.parse(r.body) as { action: string; sessionId: string }[];
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.length).toBeLessThanOrEqual(sent);
      expect(rows.every((x) => x.action === 'accept')).toBe(true);
      expect((await get(adminPort, '/history?limit=0')).status).toBe(400);
      d.proc.kill('SIGTERM');
      expect(await d.exitWithin(30_000)).toBe(0);
    } finally {
      await redis.stop();
    }
  }, 120_000);

  test('a worker that cannot start (bad tls.key) stops the start: exit 1, no restart loop', async () => {
    d = DaemonProcess.start(writeConfig(dir, sink.port, 'drainTimeoutMs: 1000', 'tls: { key: /nonexistent/key.pem, cert: /nonexistent/cert.pem }\n'));
    expect(await d.exitWithin(30_000)).toBe(1);
    const failed = d.lines.find((l) => l.msg === 'worker failed to start');
    expect(JSON.stringify(failed)).toContain('tls.key: cannot read /nonexistent/key.pem');
    expect(d.lines.some((l) => l.msg === 'worker died; restarting')).toBe(false);
  }, 60_000);
});
