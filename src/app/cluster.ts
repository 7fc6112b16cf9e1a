/**
 * `workers: N|auto` (issue 6): one primary process and N workers (node:cluster) sharing the SMTP
 * listeners.
 *
 * - Primary: forks the workers, restarts one that dies (exponential backoff; more than
 *   MAX_RESTARTS in RESTART_WINDOW_MS means something is broken for good: stop everything and exit
 *   1 so systemd's Restart= takes over), forwards SIGHUP as a reload message after validating the
 *   file once, forwards SIGTERM as a drain message and exits 0 when every worker has drained. It
 *   serves the admin endpoint: /metrics aggregates the workers' registries (prom-client
 *   AggregatorRegistry, FIELD-NOTES §8) plus its own worker gauges; /readyz; /history (Redis only).
 * - Worker: runs the daemon (src/app/daemon.ts) without an admin endpoint, answers the primary's
 *   messages, and exits when the primary goes away.
 *
 * The embedded in-memory store is per process: with several workers, greylisting, rate limits and
 * reputation each see a part of the traffic. Use Redis (`redis.url`) with workers > 1.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { loadConfig, type LoadedConfig } from '../config/loader.js';
import { toHostPort } from '../config/types.js';
import { createAdminServer, type AdminRoute, type AdminServer } from '../metrics/admin-server.js';
import { createClusterMetrics, createMetrics } from '../metrics/metrics.js';
import type { Stores } from '../store/stores-api.js';
import { listenFds, resolveListen, workerListenEnv } from '../frontends/listen-fds.js';
import { downstreamProbe, flagProbe } from './readiness.js';
import { reloadProblems } from './reload-problems.js';
// The engine, checks and stores (daemon.ts, store/index.ts) are imported only where they run — in
// the workers, and in the primary only for /history on Redis — so the primary stays small once
// the CLI loads its subcommands lazily.

/**
 * `workers: auto` → one per CPU the process may use, less one: spamgate shares its host with the
 * MTA it relays to (and often Redis), which need CPU for every message too. On 1–2 CPUs that is
 * one process, with no cluster primary: on the 2-vCPU bench machine one process relays as many
 * messages as two workers (more at 20 sessions) for half the memory (≈ 280 MB vs ≈ 470–560 MB
 * peak RSS at 200 sessions; bench/memory-sessions.sh, docs/operations.md). rspamd chooses the
 * same way: its default worker count is min(4, max(1, CPUs − 2)) (src/libserver/cfg_utils.cxx).
 */
export function resolveWorkers(w: number | 'auto', cpus = os.availableParallelism()): number {
  return w === 'auto' ? Math.max(1, cpus - 1) : w;
}

/** Whether the embedded store would be split between processes (warned at start, see docs/operations.md). */
export function usesEmbeddedStore(config: LoadedConfig['config']): boolean {
  const r = config.redis as { url?: string; cluster?: readonly string[]; sentinel?: unknown };
  return !r.url && !(r.cluster && r.cluster.length) && !r.sentinel;
}

/** Messages between primary and workers (over the cluster IPC channel). */
type ToWorker = { spamgate: 'reload' } | { spamgate: 'stop' };
type ToPrimary =
  | { spamgate: 'listening'; smtp: { host: string; port: number }[] }
  | { spamgate: 'reloaded'; ok: boolean; problems?: string[] };

const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;
const MAX_BACKOFF_MS = 10_000;

export interface PrimaryHandle {
  /** Resolves with the exit code once every worker is gone after stop(). */
  readonly done: Promise<number>;
  reload(): void;
  stop(): void;
}

export async function runPrimary(file: string, loaded: LoadedConfig, n: number, log: Logger): Promise<PrimaryHandle> {
  const { config } = loaded;
  // Scheduling: SCHED_RR (Node's default on Linux) has the primary accept and hand each connection
  // to the workers in turn: even spread, one extra IPC hop per connection. SCHED_NONE lets the
  // kernel wake whichever worker is idle in accept(): cheaper per connection, less even under
  // bursts. SMTP sessions are long compared to accept: RR's cost is small and its fairness keeps a
  // worker from holding most sessions. Override: NODE_CLUSTER_SCHED_POLICY=none|rr.
  if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_RR;
  // `systemd[:NAME]` listen entries: check once here that systemd passed those sockets (a worker
  // would fail on it again and again), and hand them to the workers (listen-fds.ts).
  resolveListen(config.listen, listenFds());
  const cm = createClusterMetrics();
  cm.workersConfigured.set(n);
  const aggregator = new AggregatorRegistry();
  if (n > 1 && usesEmbeddedStore(config))
    log.warn(
      { workers: n },
      'workers > 1 with the embedded in-memory store: each worker keeps its own greylist, rate-limit and reputation state; set redis.url to share it',
    );

  const listening = new Map<number, boolean>();
  /** Some worker got as far as listening since the start (else a dying worker is a start-up failure). */
  let everListening = false;
  const crashes: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  // Live worker processes, counted here and not from `cluster.workers`: Node removes a worker from
  // that map only once both its process 'exit' and its IPC 'disconnect' have fired, in either
  // order (lib/internal/cluster/primary.js). When 'exit' comes first, the last worker is still
  // listed in the cluster 'exit' handler, and a primary that counted the map never finished its
  // drain: SIGTERM hung (seen in CI, test/integration/cluster-workers.test.ts).
  const alive = new Set<number>();

  const fork = () => {
    const w = cluster.fork({ SPAMGATE_WORKERS: String(n), ...workerListenEnv() });
    alive.add(w.id);
    listening.set(w.id, false);
    w.on('message', (m: ToPrimary) => {
      if (!m || typeof m !== 'object' || !('spamgate' in m)) return;
      if (m.spamgate === 'listening') {
        listening.set(w.id, true);
        everListening = true;
        cm.workers.set([...listening.values()].filter(Boolean).length);
        log.info({ worker: w.id, pid: w.process.pid, smtp: m.smtp.map((a) => `${a.host}:${a.port}`) }, 'worker listening');
      } else if (m.spamgate === 'reloaded') {
        if (m.ok) log.info({ worker: w.id, pid: w.process.pid }, 'worker reloaded');
        else log.error({ worker: w.id, pid: w.process.pid, problems: m.problems }, 'worker reload failed; it keeps its running configuration');
      }
    });
    log.info({ worker: w.id, pid: w.process.pid }, 'worker started');
    return w;
  };

  cluster.on('exit', (w: Worker, code: number | null, signal: string | null) => {
    alive.delete(w.id);
    listening.delete(w.id);
    cm.workers.set([...listening.values()].filter(Boolean).length);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      log.info({ worker: w.id, pid: w.process.pid, code, signal }, 'worker stopped');
      if (alive.size === 0) resolveDone(exitCode);
      return;
    }
    if (!everListening) {
      // Not one worker came up (bad rules, port taken, bad TLS file …): restarting cannot help, and
      // the worker logged why. Exit like `workers: 1` would.
      log.fatal({ worker: w.id, pid: w.process.pid, code, signal }, 'worker failed to start; stopping');
      exitCode = 1;
      stop();
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0]! < now - RESTART_WINDOW_MS) crashes.shift();
    if (crashes.length > MAX_RESTARTS) {
      log.fatal({ restarts: crashes.length, windowMs: RESTART_WINDOW_MS }, 'workers keep dying; giving up');
      exitCode = 1;
      stop();
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (crashes.length - 1));
    log.error({ worker: w.id, pid: w.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting');
    setTimeout(() => {
      if (stopping) return;
      cm.workerRestarts.inc();
      fork();
    }, delay);
  });

  const send = (m: ToWorker) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(m);
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    log.info({ workers: alive.size }, 'shutting down: draining workers');
    send({ spamgate: 'stop' });
    if (alive.size === 0) resolveDone(exitCode);
    // A worker that does not finish its drain in time is killed (its 421s were sent at drainTimeoutMs).
    const grace = setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    }, config.limits.drainTimeoutMs + 10_000);
    grace.unref();
  };

  const reload = () => {
    // Validate once here: a bad file is reported once and never reaches the workers.
    try {
      const next = loadConfig(file);
      if (resolveWorkers(next.config.workers) !== n) log.warn('workers changed: restart spamgate to apply');
      log.level = next.config.logging.level;
    } catch (e) {
      log.error({ problems: reloadProblems(e) }, 'configuration reload failed; keeping the running configuration');
      return;
    }
    log.info({ config: file }, 'reloading workers');
    send({ spamgate: 'reload' });
  };

  let admin: AdminServer | undefined;
  let historyStores: Stores | undefined;
  if (config.admin.listen) {
    const routes: Record<string, AdminRoute> = {};
    // /history from the primary reads Redis; the embedded store lives inside each worker.
    if (usesEmbeddedStore(config))
      routes['/history'] = async () => ({ status: 501, type: 'text/plain', body: 'history with workers > 1 needs redis.url (each worker has its own embedded store)\n' });
    else {
      // Loaded on the first /history request, not at start: the store layer with ioredis costs the
      // primary ≈ 20 MB RSS (bench/memory-sessions.sh) for an occasional admin query. The handler
      // module, not daemon.js: that one imports the whole engine and its checks (≈ 50 MB more).
      let handler: Promise<AdminRoute> | undefined;
      routes['/history'] = async (req, url) => {
        handler ??= Promise.all([import('../store/index.js'), import('../history/handler.js')]).then(async ([{ createStores }, { historyHandler }]) => {
          historyStores = createStores(config.redis, { log });
          // Commands fail fast until connected (no offline queue): wait for the first one. If
          // Redis is down, the handler answers 503 as it would later.
          await historyStores.ready(2000);
          return historyHandler(historyStores);
        });
        return (await handler)(req, url);
      };
    }
    admin = createAdminServer({
      registry: cm.registry,
      readiness: [
        flagProbe('smtp', () => [...listening.values()].some(Boolean)),
        downstreamProbe(() => config.downstream),
        // A worker reports listening only after its engine (and rule set) was built.
        flagProbe('rules', () => [...listening.values()].some(Boolean)),
      ],
      routes,
      // Scraped workers + the primary's own gauges. A worker that does not answer within
      // prom-client's 5 s fails the scrape (prom-client #181): visible as a scrape error.
      metricsText: async () => (await aggregator.clusterMetrics()) + '\n' + (await cm.registry.metrics()),
    });
    const { host, port } = toHostPort(config.admin.listen);
    const a = await admin.listen(host, port);
    log.info({ admin: `${a.address}:${a.port}` }, 'admin endpoint listening');
  }

  for (let i = 0; i < n; i++) fork();

  void done.then(async () => {
    await admin?.close();
    await historyStores?.close();
  });
  return { done, reload, stop };
}

/** A cluster worker: the daemon without admin endpoint, driven by the primary's messages. */
export async function runWorker(loaded: LoadedConfig, log: Logger, onExit: (code: number) => void): Promise<void> {
  const metrics = createMetrics({ collectDefault: true });
  // Must exist in every worker: its constructor installs the IPC listener that answers the
  // primary's clusterMetrics() request (FIELD-NOTES §8).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  const wlog = log.child({ worker: cluster.worker?.id });
  const { startDaemon } = await import('./daemon.js');
  const daemon = await startDaemon(loaded, { log: wlog, metrics, admin: false, shareOf: Number(process.env.SPAMGATE_WORKERS ?? 1) || 1 });
  const stop = () => {
    daemon.stop().then(
      () => onExit(0),
      (e: unknown) => {
        wlog.error({ err: e }, 'shutdown failed');
        onExit(1);
      },
    );
  };
  const reload = () => {
    daemon.reload().then(
      () => process.send?.({ spamgate: 'reloaded', ok: true } satisfies ToPrimary),
      (e: unknown) => {
        const problems = reloadProblems(e);
        wlog.error({ problems }, 'configuration reload failed; keeping the running configuration');
        process.send?.({ spamgate: 'reloaded', ok: false, problems } satisfies ToPrimary);
      },
    );
  };
  process.on('message', (m: ToWorker) => {
    if (m?.spamgate === 'stop') stop();
    else if (m?.spamgate === 'reload') reload();
  });
  // systemd's KillMode=control-group sends SIGTERM to every process, not only the primary.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A SIGHUP sent to the whole process group: reload like the primary's message would.
  process.on('SIGHUP', reload);
  // The primary died (kill -9): drain and go rather than serve unsupervised.
  process.on('disconnect', stop);
  process.send?.({ spamgate: 'listening', smtp: [...daemon.smtp] } satisfies ToPrimary);
}
