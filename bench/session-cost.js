#!/usr/bin/env node
// What one idle SMTP session costs in bytes: runs the daemon in this process (dist/app/daemon.js,
// one process, no admin endpoint) on CONFIG, opens N sessions from a child process
// (bench/idle-sessions.js: banner + EHLO, then idle), and compares V8 heap used, external memory
// after full GCs (--expose-gc) before and with the sessions open. (Not RSS: V8 keeps and returns
// heap pages on its own schedule, so RSS moves by megabytes either way for a 2 MB difference.)
// Usage: node --expose-gc bench/session-cost.js CONFIG [N=200]
// Prints one line: per-session bytes (V8 heap, external) and the totals.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [file, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 200);
if (!file || !globalThis.gc) {
  console.error('usage: node --expose-gc bench/session-cost.js CONFIG [N]');
  process.exit(2);
}
const { loadConfig } = await import(path.join(ROOT, 'dist/config/loader.js'));
const { startDaemon } = await import(path.join(ROOT, 'dist/app/daemon.js'));
const { pino } = await import(path.join(ROOT, 'node_modules/pino/pino.js'));

const loaded = loadConfig(file);
// This process only: its own port, no admin endpoint.
const config = { ...loaded.config, workers: 1, listen: ['127.0.0.1:0'], limits: { ...loaded.config.limits, maxClientsPerIp: n + 10, maxClients: n + 10 } };
const daemon = await startDaemon({ ...loaded, config }, { log: pino({ level: 'silent' }), admin: false });
const port = daemon.smtp[0].port;

const settle = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ext: m.external };
};

// Warm-up: one session opened and closed, so first-use allocations are not counted.
const run = (count) =>
  new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'bench/idle-sessions.js'), String(port), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout.on('data', (d) => (String(d).includes('ready') ? resolve(c) : undefined));
    c.on('exit', (code) => reject(new Error(`idle-sessions exited ${code}`)));
  });
const warm = await run(5);
warm.removeAllListeners('exit');
warm.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 1000));

const before = await settle();
const child = await run(n);
child.removeAllListeners('exit');
const during = await settle();
child.kill('SIGTERM');
await daemon.stop(1000);

const per = (k) => Math.round((during[k] - before[k]) / n);
const kb = (b) => (b / 1024).toFixed(1);
console.log(
  `one idle session (after EHLO), over ${n}: V8 heap ${kb(per('heap'))} KB + external (Buffers) ${kb(per('ext'))} KB ` +
    `(totals: heap ${kb(during.heap - before.heap)} KB, external ${kb(during.ext - before.ext)} KB)`,
);
process.exit(0);
