/**
 * The daemon runtime in-process (src/app/daemon.ts): SMTP proxy + admin endpoint on loopback,
 * driven with real HTTP requests and real SMTP through to a real sink.
 * /healthz, /readyz (smtp listening, downstream reachable, rules loaded), /metrics (build info with
 * the package version, message counts), /history mounted, reload and stop.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig } from '../../src/config/loader.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { startDaemon, type Daemon } from '../../src/app/daemon.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { get } from '../helpers/http-get.js';

const VERSION = (JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function writeConfig(dir: string, downstreamPort: number, extra = ''): string {
  const file = path.join(dir, 'spamgate.yaml');
  fs.writeFileSync(
    file,
    [
      'listen: ["127.0.0.1:0"]',
      'hostname: mx.test.example',
      'admin: { listen: "127.0.0.1:0" }',
      // reload() applies logging.level to the logger it was given.
      'logging: { level: silent }',
      'dns: { servers: ["127.0.0.1:9"], timeoutMs: 200 }',
      'rules: { paths: [] }',
      'checks: { greylist: { enabled: false } }',
      `downstream: { port: ${downstreamPort} }`,
      'limits: { drainTimeoutMs: 2000 }',
    ].join('\n') + `\n${extra}`,
  );
  return file;
}

describe('startDaemon: admin endpoint', () => {
  let sink: Sink;
  let dir: string;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    sink = await startSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-daemon-'));
  });
  afterEach(async () => {
    await daemon?.stop(0);
    daemon = undefined;
  });
  afterAll(async () => {
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz, /readyz, /metrics with build info and message counts, /history; mail flows', async () => {
    const loaded = loadConfig(writeConfig(dir, sink.port));
    daemon = await startDaemon(loaded, { log: silentLogger, metrics: createMetrics({ collectDefault: true }), readinessCacheMs: 0 });
    const admin = daemon.admin!.port;
    const smtp = daemon.smtp[0]!.port;

    expect(await get(admin, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const ready = await get(admin, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toBe('smtp: ok\ndownstream: ok\nrules: ok\nready\n');

    const before = sink.messages.length;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp, secure: false, ignoreTLS: true, name: 'client.example.org' });
    for (let i = 0; i < 3; i++)
      await transport.sendMail({ envelope: { from: 'alice@example.org', to: ['bob@example.net'] }, raw: `Subject: m${i}\r\n\r\nbody ${i}\r\n` });
    transport.close();
    expect(sink.messages.length).toBe(before + 3);

    const m = await get(admin, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    expect(m.body).toContain(`spamgate_build_info{version="${VERSION}"} 1`);
    // Three messages, whatever action the shipped engine chose for them.
    const counted = [...m.body.matchAll(/^spamgate_messages_total\{[^}]*frontend="smtp"[^}]*\} (\d+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
    expect(counted).toBe(3);
    expect(m.body).toMatch(/^spamgate_process_resident_memory_bytes \d+/m);

    const h = await get(admin, '/history?limit=10');
    expect(h.status).toBe(200);
    expect(Array.isArray(JSON.parse(h.body))).toBe(true);

    expect((await get(admin, '/nope')).status).toBe(404);
  });

  test('/readyz answers 503 naming the downstream while it is unreachable', async () => {
    const loaded = loadConfig(writeConfig(dir, await closedPort()));
    daemon = await startDaemon(loaded, { log: silentLogger, readinessCacheMs: 0 });
    const r = await get(daemon.admin!.port, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toBe('smtp: ok\ndownstream: FAIL\nrules: ok\nnot ready\n');
  });

  test('reload() applies a valid file and rejects a bad one, keeping the running config', async () => {
    const file = writeConfig(dir, sink.port);
    daemon = await startDaemon(loadConfig(file), { log: silentLogger, readinessCacheMs: 0 });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('limits: { drainTimeoutMs: 2000 }', 'limits: { drainTimeoutMs: 2000, maxMessageSize: 1000 }'));
    await daemon.reload();
    const sendBig = async () => {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: daemon!.smtp[0]!.port, secure: false, ignoreTLS: true });
      try {
        await t.sendMail({ envelope: { from: 'a@example.org', to: ['b@example.net'] }, raw: `Subject: big\r\n\r\n${'x'.repeat(2000)}\r\n` });
        return 'sent';
      } catch (e) {
        return String((e as { responseCode?: number }).responseCode);
      } finally {
        t.close();
      }
    };
    expect(await sendBig()).toBe('552');
    fs.writeFileSync(file, 'listen: [oops\n');
    await expect(daemon.reload()).rejects.toThrow();
    expect(await sendBig()).toBe('552');
    expect((await get(daemon.admin!.port, '/readyz')).status).toBe(200);
  });

  test('stop() closes SMTP and admin listeners', async () => {
    const d = await startDaemon(loadConfig(writeConfig(dir, sink.port)), { log: silentLogger });
    const { port } = d.admin!;
    const smtp = d.smtp[0]!.port;
    await d.stop(0);
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    await expect(
      new Promise((resolve, reject) => net.connect(smtp, '127.0.0.1').once('connect', resolve).once('error', reject)),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
