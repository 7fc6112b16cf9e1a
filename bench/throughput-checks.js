#!/usr/bin/env node
// CPU per message of the engine, all checks on and then with one check (or group) off at a time,
// to find where the full stack's CPU goes (no sockets on the SMTP side: the engine is driven
// in-process, stage by stage, as the proxy drives it). DNS and Redis are real (loopback).
//
// Needs the environment of bench/throughput-full.sh: run that script's set-up by hand, or
//   node bench/throughput-env.js DIR node_modules/.cache/spamgate-bench/dns-server.js 1 2 3 REDIS_PORT 1 10240 &
//   (redis-server on REDIS_PORT), then
//   node bench/throughput-checks.js DIR/spamgate.yaml DIR/msg-10240.crlf [MESSAGES=400] [CONCURRENCY=10]
import fs from 'node:fs';
import { loadConfig } from '../dist/config/loader.js';
import { buildEngine } from '../dist/app/build-engine.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { silentLogger } from '../dist/log.js';

const [file, msgFile, nArg, cArg] = process.argv.slice(2);
const N = Number(nArg ?? 400);
const C = Number(cArg ?? 10);
const message = fs.readFileSync(msgFile);
const base = loadConfig(file);

const variants = [
  ['all checks on', []],
  ['- auth (DKIM/ARC/DMARC)', ['auth']],
  ['- spf', ['spf']],
  ['- rules', ['rules']],
  ['- uribl', ['uribl']],
  ['- dnsbl', ['dnsbl']],
  ['- helo, fcrdns, sender_domain', ['helo', 'fcrdns', 'sender_domain']],
  ['- reputation', ['reputation']],
  ['- ratelimit', ['ratelimit']],
  ['- greylist, history', ['greylist', 'history']],
  ['everything above off', ['auth', 'spf', 'rules', 'uribl', 'dnsbl', 'helo', 'fcrdns', 'sender_domain', 'reputation', 'ratelimit', 'greylist', 'history']],
  // Again at the end: the first round also pays for JIT warm-up of code every variant shares.
  ['all checks on (again)', []],
];

async function one(engine, i) {
  const s = engine.open('scan', `bench${i}`);
  await s.connect({ ip: '127.0.0.1', port: 40000 + (i % 20000), tls: false });
  await s.helo('mail.bench-sender.test');
  await s.mail('news@bench-sender.test', {});
  await s.rcpt('rcpt@bench-rcpt.test');
  // A fresh Buffer per message, as the proxy hands over: the MIME parse is memoized per Buffer, so
  // reusing one would parse the message once for the whole run and hide its cost (≈ 0.4 ms).
  const r = await s.data(Buffer.from(message));
  s.delivered({ accepted: true, code: 250, text: '2.0.0 Ok' });
  s.close();
  return r.verdict.action;
}

async function run(engine, n) {
  let next = 0;
  const actions = {};
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < n) {
        const a = await one(engine, next++);
        actions[a] = (actions[a] ?? 0) + 1;
      }
    }),
  );
  return actions;
}

console.log(`${N} messages of ${message.length} bytes per variant, ${C} at a time; CPU of this process (user+system)`);
console.log('variant                              CPU µs/msg   saved vs all   actions');
const results = [];
for (const [name, off] of variants) {
  const checks = { ...base.config.checks };
  for (const c of off) checks[c] = { ...(checks[c] ?? {}), enabled: false };
  const loaded = { ...base, config: { ...base.config, logging: { level: 'silent' }, checks } };
  const engine = await buildEngine(loaded, { log: silentLogger, metrics: createMetrics() });
  await run(engine, 200); // warm-up: JIT, DNS cache, Redis connection
  const c0 = process.cpuUsage();
  const actions = await run(engine, N);
  const c = process.cpuUsage(c0);
  const us = (c.user + c.system) / N;
  results.push([name, us, actions]);
  await engine.close();
}
// "saved" against the second "all checks on" round (warm).
const all = results[results.length - 1][1];
for (const [name, us, actions] of results)
  console.log(`${name.padEnd(36)} ${us.toFixed(0).padStart(10)}   ${(all - us).toFixed(0).padStart(12)}   ${JSON.stringify(actions)}`);
process.exit(0);
