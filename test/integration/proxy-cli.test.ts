/**
 * The built daemon (`node bin/spamgate.js serve --config FILE`, after `npm run build`):
 * SIGTERM drains a transaction in flight then exits 0; SIGHUP reloads and keeps the running
 * config when the new one is bad; a bad TLS path stops the start with a clear error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSink, type Sink } from '../helpers/smtp-sink.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { DaemonProcess as Daemon } from '../helpers/daemon-process.js';

function writeConfig(dir: string, sinkPort: number, extra = ''): string {
  const file = path.join(dir, 'spamgate.yaml');
  fs.writeFileSync(
    file,
    [
      'listen: ["127.0.0.1:0"]',
      'hostname: mx.test.example',
      // DNS only ever to loopback (a closed port: lookups fail fast and score nothing).
      'dns: { servers: ["127.0.0.1:9"], timeoutMs: 200 }',
      'rules: { paths: [] }',
      // The shipped engine runs; greylisting the first message would hide what we test here.
      'checks: { greylist: { enabled: false } }',
      `downstream:\n  port: ${sinkPort}`,
      'limits:\n  drainTimeoutMs: 20000',
    ].join('\n') + `\n${extra}`,
  );
  return file;
}

describe('spamgate serve', () => {
  let sink: Sink;
  let dir: string;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    sink = await startSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-cli-'));
  });
  afterAll(async () => {
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (daemon && daemon.proc.exitCode === null) {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
  });

  const start = (file: string) => (daemon = Daemon.start(file));
  // 'spamgate started' comes once the signal handlers are in place; the port is in 'listening'.
  const portOf = async (d: Daemon) => {
    await d.waitFor((l) => l.msg === 'spamgate started');
    return Number(String((await d.waitFor((l) => l.msg === 'listening')).listen).split(':').pop());
  };

  test('SIGTERM: the transaction in flight is finished and delivered, idle sessions get 421, exit 0', async () => {
    const d = start(writeConfig(dir, sink.port));
    const port = await portOf(d);
    const before = sink.messages.length;
    const busy = await RawSmtp.connect(port);
    const idle = await RawSmtp.connect(port);
    expect((await busy.read())?.code).toBe(220);
    expect((await idle.read())?.code).toBe(220);
    await busy.cmd('EHLO client.example.org');
    await idle.cmd('EHLO idle.example.org');
    expect((await busy.cmd('MAIL FROM:<alice@example.org>'))?.code).toBe(250);
    expect((await busy.cmd('RCPT TO:<bob@example.net>'))?.code).toBe(250);
    expect((await busy.cmd('DATA'))?.code).toBe(354);
    busy.write('Subject: drain\r\n\r\nfirst half\r\n');
    d.proc.kill('SIGTERM');
    await d.waitFor((l) => l.msg === 'draining');
    expect(await idle.read()).toEqual({ code: 421, text: '4.3.2 Service shutting down, please try again later' });
    busy.write('second half\r\n.\r\n');
    expect((await busy.read())?.code).toBe(250);
    expect((await busy.read())?.code).toBe(421);
    expect(await d.exited).toBe(0);
    expect(sink.messages.length).toBe(before + 1);
    expect(sink.messages[before]!.data.toString()).toMatch(/Subject: drain\r\n\r\nfirst half\r\nsecond half\r\n$/);
    // One JSON log line for the transaction, with envelope, verdict, downstream reply and timings.
    const tx = d.lines.find((l) => l.msg === 'transaction')!;
    expect(tx).toMatchObject({ tx: 'delivered', client: '127.0.0.1', mailFrom: 'alice@example.org', rcptTo: ['bob@example.net'] });
    expect(['accept', 'tag']).toContain(tx.action);
    expect(typeof tx.score).toBe('number');
    expect(Array.isArray(tx.symbols)).toBe(true);
    expect(String(tx.downstream)).toMatch(/^250 /);
    expect(tx.timings).toHaveProperty('totalMs');
    expect(typeof tx.session).toBe('string');
  });

  test('SIGHUP reloads a valid config and keeps the running one when the new file is bad', async () => {
    const file = writeConfig(dir, sink.port);
    const d = start(file);
    const port = await portOf(d);
    writeConfig(dir, sink.port, '  maxMessageSize: 1000\n');
    d.proc.kill('SIGHUP');
    await d.waitFor((l) => l.msg === 'configuration reloaded');
    let c = await RawSmtp.connect(port);
    await c.read();
    expect((await c.cmd('EHLO x.example'))?.text).toContain('SIZE 1000');
    c.close();
    fs.writeFileSync(file, 'listen: [oops\n');
    d.proc.kill('SIGHUP');
    const failed = await d.waitFor((l) => String(l.msg).startsWith('configuration reload failed'));
    expect(JSON.stringify(failed.problems)).toContain('spamgate.yaml:');
    c = await RawSmtp.connect(port);
    await c.read();
    expect((await c.cmd('EHLO x.example'))?.text).toContain('SIZE 1000');
    c.close();
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  test('a bad tls.key path stops the start with a clear error and exit 1', async () => {
    const d = start(writeConfig(dir, sink.port, 'tls:\n  key: /nonexistent/key.pem\n  cert: /nonexistent/cert.pem\n'));
    expect(await d.exited).toBe(1);
    expect(d.stderr).toContain('tls.key: cannot read /nonexistent/key.pem: ENOENT');
  });
});
