/**
 * The daemon runtime of `spamgate serve`, factored out of the CLI (fastify habit: built separately
 * from signals and process exit, so tests drive it in-process):
 *
 *   stores → engine → SMTP proxy on every `listen` entry → admin endpoint on `admin.listen`
 *
 * `reload()` is SIGHUP (re-read and validate; a bad config keeps the running one), `stop()` is
 * SIGTERM (drain, then release everything). Signals themselves are wired by src/cli/serve.ts
 * (one process) or src/app/cluster.ts (primary + workers).
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { loadConfig, type LoadedConfig } from '../config/loader.js';
import { toHostPort } from '../config/types.js';
import type { FilterEngine } from '../core/engine-api.js';
import { createSmtpProxy, type SmtpProxy } from '../frontends/smtp/smtp-proxy.js';
import { historyHandler } from '../history/handler.js';
import { createAdminServer, type AdminRoute, type AdminServer, type ReadinessProbe } from '../metrics/admin-server.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { createStores } from '../store/index.js';
import type { Stores } from '../store/stores-api.js';
import { buildEngine } from './build-engine.js';
import { downstreamProbe, flagProbe } from './readiness.js';

/** package.json's version, for spamgate_build_info (npm_package_version is only set under `npm start`). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface DaemonOptions {
  readonly log: Logger;
  /** Default: a fresh Metrics with the default process metrics. */
  readonly metrics?: Metrics;
  /**
   * Start the admin endpoint on `admin.listen` (default true). Cluster workers pass false: the
   * primary serves /metrics (aggregated), /healthz and /readyz for all of them.
   */
  readonly admin?: boolean;
  /** Override `admin.listen` (tests: "127.0.0.1:0"). */
  readonly adminListen?: string;
  /** How long the downstream probe's answer is reused (default 5000; tests: 0). */
  readonly readinessCacheMs?: number;
  /**
   * This process is one of `shareOf` workers behind the same listeners: its connection limits
   * become its share (see perWorkerLimits). Default 1.
   */
  readonly shareOf?: number;
}

/**
 * limits.maxClients and limits.maxClientsPerIp are counted per process (each worker's
 * ConnectionGate sees its own sockets). With N workers and round-robin distribution each worker
 * gets about 1/N of every client's connections, so each enforces ceil(limit / N): the total
 * stays close to the configured limit instead of N times it.
 */
export function perWorkerLimits(loaded: LoadedConfig, n: number): LoadedConfig {
  if (n <= 1) return loaded;
  const l = loaded.config.limits;
  const limits = { ...l, maxClients: Math.ceil(l.maxClients / n), maxClientsPerIp: Math.ceil(l.maxClientsPerIp / n) };
  return { ...loaded, config: { ...loaded.config, limits } };
}

export interface Daemon {
  /** Bound SMTP addresses (port 0 → the real port). */
  readonly smtp: readonly { host: string; port: number }[];
  /** Bound admin address, when the admin endpoint runs. */
  readonly admin: AddressInfo | undefined;
  readonly metrics: Metrics;
  /** Readiness probes (also served on /readyz). */
  readonly readiness: readonly ReadinessProbe[];
  /** SIGHUP: re-read `file` (default: the file started from). Throws ConfigError/RegistryError and keeps the running setup. */
  reload(file?: string): Promise<void>;
  /** SIGTERM: drain SMTP (limits.drainTimeoutMs unless given), close engine, stores and admin. */
  stop(drainMs?: number): Promise<void>;
}

/** Engines with resources (the scoring engine: DNS, rule watchers) expose close(); accept-all has none. */
async function closeEngine(engine: FilterEngine): Promise<void> {
  const e = engine as FilterEngine & { close?: () => Promise<void> };
  if (typeof e.close === 'function') await e.close();
}

/**
 * The admin routes that depend on the stores. `/history` reads the history store (Redis, or this
 * process's embedded store); it holds envelope addresses: admin.listen must not be public.
 */
export function storeRoutes(stores: Stores): Record<string, AdminRoute> {
  return { '/history': historyHandler(stores) };
}

export async function startDaemon(loaded: LoadedConfig, opts: DaemonOptions): Promise<Daemon> {
  const { log } = opts;
  const share = opts.shareOf ?? 1;
  loaded = perWorkerLimits(loaded, share);
  const metrics = opts.metrics ?? createMetrics({ collectDefault: true });
  metrics.buildInfo.set({ version: packageVersion() }, 1);
  let current = loaded;
  // The stores outlive engine rebuilds on SIGHUP: with the embedded store, greylist/reputation
  // state would otherwise be lost at every reload. Rebuilt only when the redis section changes.
  let stores: Stores = createStores(loaded.config.redis, { metrics, log });
  let redisKey = JSON.stringify(loaded.config.redis);
  let engine: FilterEngine;
  try {
    engine = await buildEngine(loaded, { log, metrics, stores });
  } catch (e) {
    await stores.close();
    throw e;
  }
  let proxy: SmtpProxy;
  let smtp: { host: string; port: number }[];
  try {
    // A bad tls.key/tls.cert path throws here with a message naming the key.
    proxy = createSmtpProxy({ config: loaded.config, baseDir: loaded.baseDir, engine, log, metrics });
    smtp = await proxy.listen();
  } catch (e) {
    await closeEngine(engine);
    await stores.close();
    throw e;
  }
  let listening = true;

  const readiness: ReadinessProbe[] = [
    flagProbe('smtp', () => listening),
    downstreamProbe(() => current.config.downstream, { cacheMs: opts.readinessCacheMs }),
    // The engine (and with it the rule set) is built before anything listens, and a bad rule file
    // on reload keeps the previous set: once started, rules are loaded while we run.
    flagProbe('rules', () => listening),
  ];

  let admin: AdminServer | undefined;
  let adminAddr: AddressInfo | undefined;
  const adminListen = opts.adminListen ?? loaded.config.admin.listen;
  if (opts.admin !== false && adminListen) {
    admin = createAdminServer({
      registry: metrics.registry,
      readiness,
      // Looked up per request so a SIGHUP that switches to Redis serves the new store.
      routes: { '/history': (req, url) => storeRoutes(stores)['/history']!(req, url) },
    });
    const { host, port } = toHostPort(adminListen);
    try {
      adminAddr = await admin.listen(host, port);
    } catch (e) {
      await proxy.close(0);
      await closeEngine(engine);
      await stores.close();
      throw new Error(`admin.listen ${adminListen}: ${(e as Error).message}`);
    }
    log.info({ admin: `${adminAddr.address}:${adminAddr.port}` }, 'admin endpoint listening');
  }

  let reloading: Promise<void> | undefined;
  const doReload = async (file: string) => {
    const next = perWorkerLimits(loadConfig(file), share);
    const nextKey = JSON.stringify(next.config.redis);
    const nextStores = nextKey === redisKey ? stores : createStores(next.config.redis, { metrics, log });
    let nextEngine: FilterEngine;
    try {
      nextEngine = await buildEngine(next, { log, metrics, stores: nextStores });
    } catch (e) {
      if (nextStores !== stores) await nextStores.close();
      throw e;
    }
    proxy.reload({ config: next.config, baseDir: next.baseDir, engine: nextEngine });
    if (next.config.admin.listen !== current.config.admin.listen) log.warn('admin.listen changed: restart spamgate to apply');
    // Sessions already open keep the old engine until they end: close it (and replaced stores)
    // once they had time to finish.
    const [oldEngine, oldStores] = [engine, stores];
    [engine, stores, redisKey, current] = [nextEngine, nextStores, nextKey, next];
    setTimeout(() => {
      void closeEngine(oldEngine).then(() => (oldStores !== nextStores ? oldStores.close() : undefined));
    }, next.config.limits.drainTimeoutMs + next.config.limits.socketTimeoutMs).unref();
    log.level = next.config.logging.level;
    log.info({ config: file }, 'configuration reloaded');
  };

  let stopped: Promise<void> | undefined;
  return {
    smtp,
    admin: adminAddr,
    metrics,
    readiness,
    reload(file = current.file) {
      // Two SIGHUPs in a row: the second waits for the first, then re-reads (the file may have changed again).
      const run = (reloading ?? Promise.resolve()).then(() => doReload(file));
      // The chain itself never rejects (the caller gets run's outcome).
      reloading = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
    stop(drainMs) {
      stopped ??= (async () => {
        listening = false;
        await proxy.close(drainMs);
        await closeEngine(engine);
        await stores.close();
        await admin?.close();
      })();
      return stopped;
    },
  };
}

export { reloadProblems } from './reload-problems.js';
