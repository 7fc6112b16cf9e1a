#!/usr/bin/env node
// Latency probe for bench/throughput-full.sh: one persistent SMTP session to PORT that sends the
// message in FILE (CRLF, already signed) over and over, one transaction at a time, timing each
// from MAIL FROM to the final reply to the end of data. Runs while the bench's load runs; on SIGTERM
// prints one JSON line {count, p50, p90, p99, max, stepP50: {mail, rcpt, data, dot}} in milliseconds.
// Usage: node bench/throughput-probe.js PORT FILE [PAUSE_MS=20]
import fs from 'node:fs';
import net from 'node:net';

const [port, file, pauseArg] = process.argv.slice(2);
const pauseMs = Number(pauseArg ?? 20);
const body = fs.readFileSync(file);
// RFC 5321 §4.5.2 dot-stuffing, then the end-of-data line.
const message = Buffer.concat([Buffer.from(body.toString('latin1').replace(/^\./gm, '..'), 'latin1'), Buffer.from('.\r\n')]);
const times = [];
// Per command, for finding which stage adds the latency.
const steps = { mail: [], rcpt: [], data: [], dot: [] };
let stopping = false;

const sock = net.connect({ host: '127.0.0.1', port: Number(port) });
sock.setNoDelay(true);
let buf = '';
let waiter;
sock.on('data', (c) => {
  buf += c.toString('latin1');
  // A complete reply: its last line has a space after the code.
  const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf);
  if (m && waiter) {
    const w = waiter;
    waiter = undefined;
    const text = buf;
    buf = '';
    w(Number(m[1]), text);
  }
});
sock.on('error', (e) => {
  console.error(`probe: ${e.message}`);
  process.exit(1);
});
const reply = () => new Promise((resolve) => (waiter = (code, text) => resolve({ code, text })));
const cmd = async (line, want) => {
  const r = reply();
  sock.write(line);
  const { code, text } = await r;
  if (Math.floor(code / 100) !== Math.floor(want / 100)) throw new Error(`probe: ${line.trim().slice(0, 40)} → ${text.trim()}`);
};

const report = () => {
  const s = [...times].sort((a, b) => a - b);
  const q = (f) => (s.length ? s[Math.min(s.length - 1, Math.floor(f * s.length))] : NaN);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const p50 = (a) => r3([...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN);
  const stepP50 = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, p50(v)]));
  console.log(JSON.stringify({ count: s.length, p50: r3(q(0.5)), p90: r3(q(0.9)), p99: r3(q(0.99)), max: r3(s[s.length - 1] ?? NaN), stepP50 }));
  process.exit(0);
};
process.on('SIGTERM', () => (stopping = true));

try {
  await reply().then(({ code }) => code === 220 || Promise.reject(new Error(`probe: greeting ${code}`)));
  await cmd('EHLO mail.bench-sender.test\r\n', 250);
  console.error('ready');
  while (!stopping) {
    const t0 = performance.now();
    await cmd('MAIL FROM:<news@bench-sender.test>\r\n', 250);
    const t1 = performance.now();
    await cmd('RCPT TO:<probe@bench-rcpt.test>\r\n', 250);
    const t2 = performance.now();
    await cmd('DATA\r\n', 354);
    const t3 = performance.now();
    await cmd(message, 250);
    const t4 = performance.now();
    times.push(t4 - t0);
    steps.mail.push(t1 - t0);
    steps.rcpt.push(t2 - t1);
    steps.data.push(t3 - t2);
    steps.dot.push(t4 - t3);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
} catch (e) {
  console.error(e.message);
}
report();
