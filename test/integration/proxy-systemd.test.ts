/**
 * systemd packaging:
 * - systemd/spamgate.service and spamgate.socket pass `systemd-analyze verify`; the service has
 *   an exposure level ≤ 3.0 in `systemd-analyze security --offline=true` (`--threshold` is on a
 *   0–100 scale: 30 = 3.0, FIELD-NOTES §12);
 * - socket activation for real: `systemd-socket-activate` (Debian package `systemd`) binds a
 *   loopback port and execs `spamgate serve` with LISTEN_FDS/LISTEN_FDNAMES as spamgate.socket
 *   would; a real SMTP client (nodemailer) sends through it to a sink, with one process and with
 *   workers; a connection made before spamgate runs is served (it waits in the backlog);
 * - `listen: ["systemd:smtp"]` passes check-config; misuse fails at start with a clear message.
 * Needs systemd-analyze and systemd-socket-activate (.ci/run installs `systemd`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { DaemonProcess, ROOT } from '../helpers/daemon-process.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';

const UNIT = path.resolve(import.meta.dirname, '../../systemd/spamgate.service');
const SOCKET = path.resolve(import.meta.dirname, '../../systemd/spamgate.socket');
const BIN = path.join(ROOT, 'bin/spamgate.js');

function tool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (!bin) throw new Error(`${name} not found: apt-get install -y systemd`);
  return bin;
}

describe('systemd/spamgate.service and spamgate.socket', () => {
  test('systemd-analyze verify accepts the units', () => {
    const r = spawnSync(tool('systemd-analyze'), ['verify', SOCKET, UNIT], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  test('the socket unit passes port 25 as "smtp" to spamgate.service', () => {
    const text = fs.readFileSync(SOCKET, 'utf8');
    expect(text).toMatch(/^ListenStream=25$/m);
    expect(text).toMatch(/^FileDescriptorName=smtp$/m);
    expect(text).toMatch(/^Service=spamgate\.service$/m);
    // SIGHUP reload is wired in the service (systemctl reload spamgate).
    expect(fs.readFileSync(UNIT, 'utf8')).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  test('exposure level ≤ 3.0 offline, without MemoryDenyWriteExecute (breaks V8)', () => {
    const out = execFileSync(tool('systemd-analyze'), ['security', '--offline=true', '--threshold=30', UNIT], { encoding: 'utf8' });
    const m = /Overall exposure level for spamgate\.service: (\d+\.\d)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(3.0);
    expect(out).toMatch(/✗ MemoryDenyWriteExecute=/);
  });
});

/** A loopback port free right now (systemd-socket-activate needs a number, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function writeConfig(dir: string, name: string, sinkPort: number, workers: number, listen = '"systemd:smtp"'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    [
      `listen: [${listen}]`,
      'hostname: mx.test.example',
      `workers: ${workers}`,
      'dns: { servers: ["127.0.0.1:9"], timeoutMs: 200 }',
      'rules: { paths: [] }',
      'checks: { greylist: { enabled: false } }',
      `downstream: { port: ${sinkPort} }`,
      'limits: { drainTimeoutMs: 5000 }',
    ].join('\n') + '\n',
  );
  return file;
}

/**
 * `spamgate serve` started the way spamgate.socket starts it: the socket bound first, then exec
 * (resolves once systemd-socket-activate listens; it execs spamgate at the first connection).
 */
async function activate(port: number, fdnames: string, file: string, extra: string[] = []): Promise<DaemonProcess> {
  const args = ['-l', `127.0.0.1:${port}`, `--fdname=${fdnames}`, ...extra, process.execPath, BIN, 'serve', '--config', file];
  const d = new DaemonProcess(spawn(tool('systemd-socket-activate'), args, { cwd: ROOT, env: { ...process.env, SPAMGATE_DNS_LOOPBACK_ONLY: '1' } }));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (d.stderr.includes(`Listening on 127.0.0.1:${port}`)) return resolve();
      if (d.proc.exitCode !== null) return reject(new Error(`systemd-socket-activate exited: ${d.stderr}`));
      setTimeout(check, 20);
    };
    check();
  });
  return d;
}

async function send(port: number, subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'client.example.org' });
  try {
    const info = await t.sendMail({ envelope: { from: 'alice@example.org', to: ['bob@example.net'] }, raw: `Subject: ${subject}\r\n\r\nbody\r\n` });
    return info.response;
  } finally {
    t.close();
  }
}

async function stop(d: DaemonProcess): Promise<number | null> {
  d.proc.kill('SIGTERM');
  return d.exited;
}

describe('socket activation (systemd-socket-activate, LISTEN_FDS)', () => {
  let sink: Sink;
  let dir: string;
  let d: DaemonProcess | undefined;
  beforeAll(async () => {
    sink = await startSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-sd-'));
  });
  afterEach(async () => {
    await d?.kill();
    d = undefined;
  });
  afterAll(async () => {
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['one process', 1],
    ['workers: 2', 2],
  ])('%s: mail through the passed socket reaches the sink; SIGTERM exits 0', async (_label, workers) => {
    const port = await freePort();
    d = await activate(port, 'smtp', writeConfig(dir, `w${workers}.yaml`, sink.port, workers));
    // systemd-socket-activate execs spamgate only when the first connection arrives: this message
    // is sent while spamgate is not running yet and waits in the socket's backlog.
    const tag = `socket-activated ${workers} ${port}`;
    expect(await send(port, tag)).toMatch(/^250 /);
    // Every process listening reports the passed socket's address (with workers: each worker).
    const listening = (await d.waitForCount((l) => l.msg === 'listening', workers)).map((l) => l.listen);
    expect(listening).toEqual(Array<string>(workers).fill(`127.0.0.1:${port}`));
    const got = sink.messages.filter((m) => m.data.toString().includes(`Subject: ${tag}`));
    expect(got.length).toBe(1);
    expect(got[0]!.rcptTo).toEqual(['bob@example.net']);
    // A second session on the same activated socket, after start.
    expect(await send(port, `${tag} again`)).toMatch(/^250 /);
    expect(sink.messages.filter((m) => m.data.toString().includes(`Subject: ${tag} again`)).length).toBe(1);
    expect(await stop(d)).toBe(0);
  }, 120_000);

  test('a passed socket that no listen entry takes is refused at start, naming it', async () => {
    const port = await freePort();
    const port2 = await freePort();
    // Two sockets named smtp and admin; the config only takes "smtp".
    d = await activate(port, 'smtp:admin', writeConfig(dir, 'unused.yaml', sink.port, 1), ['-l', `127.0.0.1:${port2}`]);
    // Trigger the exec, then expect exit 1.
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    expect(await d.exited).toBe(1);
    c.destroy();
    expect(d.stderr).toMatch(/systemd passed sockets no listen entry takes: admin \(fd 4\)/);
  }, 120_000);

  test('listen: systemd:smtp without socket activation fails at start; check-config accepts it', () => {
    const file = writeConfig(dir, 'plain.yaml', sink.port, 1);
    const ok = spawnSync(process.execPath, [BIN, 'check-config', '--config', file], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.stdout).toMatch(/OK/);
    expect(ok.status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'serve', '--config', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SPAMGATE_DNS_LOOPBACK_ONLY: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/listen systemd:smtp: systemd passed no socket named "smtp".*LISTEN_FDS unset/);
  }, 120_000);

  test('check-config rejects a malformed systemd entry at its line', () => {
    const file = writeConfig(dir, 'bad.yaml', sink.port, 1, '"systemd:a:b"');
    const r = spawnSync(process.execPath, [BIN, 'check-config', '--config', file], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/bad\.yaml:1:\d+: listen\.0: expected host:port .*systemd or systemd:NAME/);
  }, 60_000);
});
