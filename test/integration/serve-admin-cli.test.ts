/**
 * The built CLI in one process (`workers: 1`) serves the admin endpoint on `admin.listen`:
 * /healthz, /readyz (smtp, downstream, rules) and /metrics with spamgate_build_info carrying the
 * package.json version.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DaemonProcess, ROOT } from '../helpers/daemon-process.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { get } from '../helpers/http-get.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('spamgate serve (one process): admin endpoint', () => {
  let sink: Sink;
  let dir: string;
  let d: DaemonProcess | undefined;
  beforeAll(async () => {
    sink = await startSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-admin-cli-'));
  });
  afterAll(async () => {
    await d?.kill();
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz, /readyz and /metrics answer on admin.listen; SIGTERM exits 0', async () => {
    const file = path.join(dir, 'spamgate.yaml');
    fs.writeFileSync(
      file,
      [
        'listen: ["127.0.0.1:0"]',
        'admin: { listen: "127.0.0.1:0" }',
        'dns: { servers: ["127.0.0.1:9"], timeoutMs: 200 }',
        'rules: { paths: [] }',
        `downstream: { port: ${sink.port} }`,
      ].join('\n') + '\n',
    );
    d = DaemonProcess.start(file);
    const admin = Number(String((await d.waitFor((l) => l.msg === 'admin endpoint listening')).admin).split(':').pop());
    await d.waitFor((l) => l.msg === 'spamgate started');
    expect(await get(admin, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(admin, '/readyz')).toMatchObject({ status: 200, body: 'smtp: ok\ndownstream: ok\nrules: ok\nready\n' });
    const m = await get(admin, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toContain(`spamgate_build_info{version="${VERSION}"} 1`);
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });
});
