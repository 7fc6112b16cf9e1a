#!/usr/bin/env node
// Redis cost per SMTP stage with every Redis feature on (rate limits at connect/mail/rcpt,
// reputation at connect/helo/mail/data, greylisting at data, reputation learning + history after
// the transaction), through the real engine (dist/), against a redis-server this script starts on
// a free loopback port (so INFO counts only our traffic). Reference in the same run: the same
// engine on the embedded in-memory store.
//
//   npm run build && node bench/redis-stages.js [--messages N] [--rcpts R] [--cold] [--unix]
//
// Prints per stage: p50/p99 latency with Redis and with the embedded store, the added p99, and
// Redis round trips per stage (server `total_reads_processed` delta: one read event = one batch
// the client wrote, i.e. one round trip) and commands per stage (INFO commandstats delta); per
// stage, how many of its slow samples (> 1 ms) overlapped a V8 GC pause; CPU and heap allocation
// per message (allocation: a separate, non-interleaved phase under v8.GCProfiler).
// Targets (issue 5): <= 2 round trips per stage, <= 1 ms added p99 on loopback.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { buildEngine } from '../dist/app/build-engine.js';
import { parseConfigText } from '../dist/config/loader.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { silentLogger } from '../dist/log.js';
import { createStores, createMemoryStores } from '../dist/store/index.js';
import { storeModifiers, storeObservers } from '../dist/store/hooks.js';
import { buildRatelimitChecks } from '../dist/ratelimit/checks.js';
import { buildReputationChecks } from '../dist/reputation/checks.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const MESSAGES = arg('--messages', 2000);
const RCPTS = arg('--rcpts', 1);
const WARMUP = Math.min(200, Math.floor(MESSAGES / 5));
// --cold: the old order (Redis message straight after the embedded one): connect then also carries
// the embedded run's deferred GC and the idle-server wake-up (see the loop below).
const COLD = process.argv.includes('--cold');
// --unix: the stores talk to redis-server over its Unix socket (redis.url = socket path) instead of loopback TCP.
const UNIX = process.argv.includes('--unix');

// Limits high enough never to trip; greylist band hit by every message (score 5) so the modifier runs.
const YAML = `
checks:
  auth: { enabled: false }
  # Measure the greylist modifier on every band message (a good reputation would skip it).
  greylist: { skipGoodReputation: false }
  ratelimit:
    ip: { perMinute: 1000000, burst: 1000000 }
    net: { perMinute: 1000000, burst: 1000000 }
    sender: { perMinute: 1000000, burst: 1000000 }
    rcpt: { perMinute: 1000000, burst: 1000000 }
    rcpt_domain: { perMinute: 1000000, burst: 1000000 }
`;

// Every other message lands in the greylist band (the modifier runs, observers run at once);
// the others are clean (accepted, observers run after delivered(): reputation learning + history).
const scoreCheck = () => ({
  name: 'bench_score',
  stage: 'data',
  timeoutMs: 1000,
  symbols: [{ name: 'BENCH_SCORE', score: 5, description: 'bench: puts a message in the greylist band' }],
  run(ctx) {
    if (ctx.session.message.includes('X-Bench: grey')) ctx.emit('BENCH_SCORE');
  },
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-bench-redis-'));
  const sock = path.join(dir, 'redis.sock');
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: UNIX ? sock : `redis://127.0.0.1:${port}`,
    admin,
    async stop() {
      admin.disconnect();
      proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serverCounters(admin) {
  const stats = await admin.info('stats');
  const reads = Number(/total_reads_processed:(\d+)/.exec(stats)[1]);
  const cs = await admin.info('commandstats');
  let calls = 0;
  for (const m of cs.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) if (m[1] !== 'info') calls += Number(m[2]);
  return { reads, calls };
}

const STAGES = ['connect', 'helo', 'mail', 'rcpt', 'data', 'after'];

// V8 GC pauses (start, duration in performance.now() ms), to tell GC from Redis in slow stages.
const GCS = [];
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) GCS.push([e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });
const duringGc = (t0, ms) => GCS.some(([g0, gd]) => g0 < t0 + ms && g0 + gd > t0);

/** A PING on the store client; a timeout (100 ms store deadline) is a sample, not a crash. */
async function timedPing(client) {
  const t0 = process.hrtime.bigint();
  await client.ping().catch(() => undefined);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function makeEngine(stores) {
  const loaded = parseConfigText(YAML, '/bench.yaml');
  const clock = { t: Date.UTC(2026, 0, 1) };
  const now = () => clock.t;
  const engine = await buildEngine(loaded, {
    log: silentLogger,
    metrics: createMetrics(),
    dns: {},
    stores,
    factories: [(s) => buildRatelimitChecks(s, now), (s) => buildReputationChecks(s, now), scoreCheck],
    modifiers: storeModifiers(loaded.config, stores, now),
    observers: storeObservers(loaded.config, stores, now),
  });
  const times = Object.fromEntries(STAGES.map((s) => [s, []]));
  // performance.now() at the start of each timed stage (same index as times), for GC overlap.
  const starts = Object.fromEntries(STAGES.map((s) => [s, []]));
  const trips = Object.fromEntries(STAGES.map((s) => [s, { reads: 0, calls: 0, n: 0 }]));
  const grey = Buffer.from('Subject: bench\r\nFrom: a@example.org\r\nX-Bench: grey\r\n\r\nhello\r\n');
  const clean = Buffer.from('Subject: bench\r\nFrom: a@example.org\r\nX-Bench: clean\r\n\r\nhello\r\n');

  /** One transaction; `admin` set = count round trips per stage (INFO between stages, not timed). */
  async function message(i, measure, admin) {
    clock.t += 1000;
    const s = engine.open('smtp');
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const steps = [
      ['connect', () => s.connect({ ip, port: 40000, tls: false })],
      ['helo', () => s.helo(`host${i % 500}.example.org`)],
      ['mail', () => s.mail(`sender${i % 300}@example${i % 50}.org`, {})],
      ...Array.from({ length: RCPTS }, (_, r) => ['rcpt', () => s.rcpt(`user${(i + r) % 1000}@example.net`)]),
      ['data', () => s.data(i % 2 ? clean : grey)],
      [
        'after',
        async () => {
          s.delivered({ accepted: true, code: 250, text: 'ok' });
          await engine.flush();
        },
      ],
    ];
    for (const [stage, fn] of steps) {
      const before = admin ? await serverCounters(admin) : undefined;
      const p0 = performance.now();
      const t0 = process.hrtime.bigint();
      await fn();
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      if (measure && !admin) {
        times[stage].push(dt);
        starts[stage].push(p0);
      }
      if (before) {
        const after = await serverCounters(admin);
        // Minus the reads of our own two INFO commands.
        trips[stage].reads += after.reads - before.reads - 2;
        trips[stage].calls += after.calls - before.calls;
        trips[stage].n++;
      }
    }
    s.close();
  }
  return { engine, times, starts, trips, message };
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const redis = await startRedis();
try {
  const stores = createStores(parseConfigText(`redis: { url: "${redis.url}", prefix: "bench:" }`, '/b.yaml').config.redis, {});
  if (!(await stores.ready(5000))) throw new Error('redis not ready');
  const mem = await makeEngine(createMemoryStores());
  const red = await makeEngine(stores);
  // Phase 1: round trips per stage (INFO before/after each stage).
  const COUNTED = Math.min(400, MESSAGES);
  for (let i = 0; i < COUNTED; i++) await red.message(i, false, redis.admin);
  // Phase 2: latency, embedded and Redis interleaved message by message, so machine noise hits both alike.
  // Reference for the Redis rows: one bare PING round trip per message on the same client, i.e.
  // the floor of any cross-process round trip on this machine (its p99 is scheduling noise on a
  // loaded box, which no client code can remove).
  const pings = [];
  const coldPings = [];
  // CPU time of this process per message (user+system): much less sensitive to other load than wall time.
  const cpu = { mem: 0, red: 0 };
  const cpuOf = (u) => u.user + u.system;
  await new Promise((r) => setTimeout(r, 50));
  const gcsBefore = GCS.length;
  for (let i = 0; i < MESSAGES + WARMUP; i++) {
    let c0 = process.cpuUsage();
    await mem.message(COUNTED + i, i >= WARMUP);
    if (i >= WARMUP) cpu.mem += cpuOf(process.cpuUsage(c0));
    if (!COLD) {
      // The embedded store answers from the microtask queue, so its whole message runs without one
      // event-loop turn, and the GC work V8 schedules as a task meanwhile (scavenge jobs of 3-7 ms
      // here) runs at the next turn: that would be the Redis connect stage (right after the
      // autopipeline's setImmediate), billing the embedded run's GC to Redis. Two turns (the
      // second passes the poll phase, where Node runs V8's tasks) let it run here, unmeasured.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      // After the embedded message Redis has been idle ~0.5 ms; the first round trip after such a
      // gap pays the wake-up of the idle redis-server (OS/VM scheduling, not Redis work: command
      // times stay < 0.3 ms in LATENCY HISTOGRAM). Measured here as its own reference, so that
      // connect is measured like every other stage (right after Redis traffic).
      const w = await timedPing(stores.client);
      if (i >= WARMUP) coldPings.push(w);
    }
    c0 = process.cpuUsage();
    await red.message(COUNTED + i, i >= WARMUP);
    if (i >= WARMUP) cpu.red += cpuOf(process.cpuUsage(c0));
    const p = await timedPing(stores.client);
    if (i >= WARMUP) pings.push(p);
  }
  // GC entries arrive as a task: let them in before counting.
  await new Promise((r) => setTimeout(r, 50));
  const timedGcs = GCS.length - gcsBefore;
  // Phase 3: heap allocation per message, each store alone (allocation does not depend on load).
  // Allocated = heap growth between GCs + what each GC found in use before it ran (GCProfiler).
  const ALLOC_N = Math.min(500, MESSAGES);
  const alloc = {};
  for (const [name, eng] of [['mem', mem], ['red', red]]) {
    const base = COUNTED + MESSAGES + WARMUP + (name === 'red' ? ALLOC_N : 0);
    const prof = new v8.GCProfiler();
    const used0 = v8.getHeapStatistics().used_heap_size;
    prof.start();
    for (let i = 0; i < ALLOC_N; i++) await eng.message(base + i, false);
    const used1 = v8.getHeapStatistics().used_heap_size;
    const { statistics } = prof.stop();
    let prev = used0;
    let bytes = 0;
    for (const g of statistics) {
      bytes += g.beforeGC.heapStatistics.usedHeapSize - prev;
      prev = g.afterGC.heapStatistics.usedHeapSize;
    }
    bytes += used1 - prev;
    alloc[name] = { perMsg: bytes / ALLOC_N, gcs: statistics.length };
  }
  await mem.engine.close();
  await red.engine.close();
  await stores.close();
  const memory = mem;

  console.log(`redis-stages: ${UNIX ? 'Unix socket' : 'loopback TCP'}; ${MESSAGES} messages (+${WARMUP} warm-up) per store, interleaved; round trips over ${COUNTED} messages; ${RCPTS} recipient(s); half greylist band, half clean`);
  console.log('stage    emb p50  emb p99 redis p50 redis p99 added p50 added p99 round trips  cmds(incl. in Lua)  slow>1ms(GC) emb|redis  (ms; per stage)');
  const msgMem = [];
  const msgRed = [];
  for (let i = 0; i < MESSAGES; i++) {
    let m = 0;
    let r = 0;
    for (const st of STAGES) {
      const per = st === 'rcpt' ? RCPTS : 1;
      for (let k = 0; k < per; k++) {
        m += memory.times[st][i * per + k];
        r += red.times[st][i * per + k];
      }
    }
    msgMem.push(m);
    msgRed.push(r);
  }
  // Slow samples of a stage, and how many of them overlapped a GC pause: "n(g)".
  const slow = (e, st) => {
    let n = 0;
    let g = 0;
    e.times[st].forEach((ms, i) => {
      if (ms <= 1) return;
      n++;
      if (duringGc(e.starts[st][i], ms)) g++;
    });
    return `${n}(${g})`;
  };
  for (const st of STAGES) {
    const f = (x) => x.toFixed(3).padStart(9);
    const n = red.trips[st].n;
    console.log(
      [
        st.padEnd(7),
        f(pct(memory.times[st], 50)),
        f(pct(memory.times[st], 99)),
        f(pct(red.times[st], 50)),
        f(pct(red.times[st], 99)),
        f(pct(red.times[st], 50) - pct(memory.times[st], 50)),
        f(pct(red.times[st], 99) - pct(memory.times[st], 99)),
        (red.trips[st].reads / n).toFixed(2).padStart(11),
        (red.trips[st].calls / n).toFixed(2).padStart(19),
        `${slow(memory, st)} | ${slow(red, st)}`.padStart(23),
      ].join(' '),
    );
  }
  console.log(
    `per message: embedded p50 ${pct(msgMem, 50).toFixed(3)} p99 ${pct(msgMem, 99).toFixed(3)} ms; redis p50 ${pct(msgRed, 50).toFixed(3)} p99 ${pct(msgRed, 99).toFixed(3)} ms; ` +
      `added p50 ${(pct(msgRed, 50) - pct(msgMem, 50)).toFixed(3)} p99 ${(pct(msgRed, 99) - pct(msgMem, 99)).toFixed(3)} ms; ratio redis/embedded p50 ${(pct(msgRed, 50) / pct(msgMem, 50)).toFixed(2)}`,
  );
  console.log(`CPU per message (this process): embedded ${(cpu.mem / MESSAGES).toFixed(0)} µs, redis ${(cpu.red / MESSAGES).toFixed(0)} µs (ratio ${(cpu.red / cpu.mem).toFixed(2)})`);
  console.log(
    `heap allocated per message (${ALLOC_N} each, alone): embedded ${(alloc.mem.perMsg / 1024).toFixed(1)} KB, redis ${(alloc.red.perMsg / 1024).toFixed(1)} KB ` +
      `(GCs ${alloc.mem.gcs} | ${alloc.red.gcs}); GC pauses in the timed phase: ${timedGcs}`,
  );
  console.log(`reference: bare PING round trip p50 ${pct(pings, 50).toFixed(3)} p99 ${pct(pings, 99).toFixed(3)} ms (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
  if (coldPings.length) {
    console.log(`reference: bare PING after the embedded message (idle server) p50 ${pct(coldPings, 50).toFixed(3)} p99 ${pct(coldPings, 99).toFixed(3)} ms (not counted in any stage; --cold measures connect in that position)`);
  }
  const totalTrips = STAGES.reduce((t, st) => t + red.trips[st].reads / red.trips[st].n, 0);
  console.log(`round trips per message: ${totalTrips.toFixed(2)}   targets: <= 2 per stage; <= 1 ms added p99 per stage on loopback`);
} finally {
  await redis.stop();
}
