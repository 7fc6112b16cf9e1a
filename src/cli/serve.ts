/**
 * `spamgate serve`: run the SMTP proxy daemon on every `listen` entry.
 *
 * SIGTERM/SIGINT: stop accepting, let transactions in flight finish (limits.drainTimeoutMs), 421
 * the rest, exit 0. SIGHUP: re-read and validate the config; on any problem keep the running one
 * and log every problem.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig, resolveConfigPath, formatProblem, type LoadedConfig } from '../config/loader.js';
import { createLogger } from '../log.js';
import { createMetrics } from '../metrics/metrics.js';
import { buildEngine } from '../app/build-engine.js';
import type { FilterEngine } from '../core/engine-api.js';
import { createSmtpProxy } from '../frontends/smtp/smtp-proxy.js';
import { createStores } from '../store/index.js';
import type { Stores } from '../store/stores-api.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SMTP proxy daemon')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)')
    .action(async (opts: { config?: string }) => {
      await serve(resolveConfigPath(opts.config));
    });
}

function loadOrExit(file: string): LoadedConfig {
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
      process.exit(1);
    }
    throw e;
  }
}

export async function serve(file: string): Promise<void> {
  const loaded = loadOrExit(file);
  const log = createLogger(loaded.config.logging.level);
  const metrics = createMetrics({ collectDefault: true });
  metrics.buildInfo.set({ version: process.env.npm_package_version ?? '0.1.0' }, 1);
  // The stores outlive engine rebuilds on SIGHUP: with the embedded store, greylist/reputation
  // state would otherwise be lost at every reload. Rebuilt only when the redis section changes.
  let stores: Stores = createStores(loaded.config.redis, { metrics, log });
  let redisKey = JSON.stringify(loaded.config.redis);
  let engine: FilterEngine = await buildEngine(loaded, { log, metrics, stores });
  // A bad tls.key/tls.cert path throws here with a message naming the key: the CLI prints it, exits 1.
  const proxy = createSmtpProxy({ config: loaded.config, baseDir: loaded.baseDir, engine, log, metrics });
  await proxy.listen();
  log.info({ config: loaded.file, downstream: `${loaded.config.downstream.host}:${loaded.config.downstream.port}` }, 'spamgate started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    proxy
      .close()
      .then(() => closeEngine(engine))
      .then(() => stores.close())
      .then(
        () => {
          log.flush?.();
          process.exit(0);
        },
        (e: unknown) => {
          log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    void (async () => {
      try {
        const next = loadConfig(file);
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
        // Sessions already open keep the old engine until they end: close it (and replaced stores)
        // once they had time to finish.
        const [oldEngine, oldStores] = [engine, stores];
        [engine, stores, redisKey] = [nextEngine, nextStores, nextKey];
        setTimeout(() => {
          void closeEngine(oldEngine).then(() => (oldStores !== nextStores ? oldStores.close() : undefined));
        }, next.config.limits.drainTimeoutMs + next.config.limits.socketTimeoutMs).unref();
        log.level = next.config.logging.level;
        log.info({ config: file }, 'configuration reloaded');
      } catch (e) {
        const problems = e instanceof ConfigError ? e.problems.map(formatProblem) : [(e as Error).message];
        log.error({ problems }, 'configuration reload failed; keeping the running configuration');
      }
    })();
  });
}

/** Engines with resources (the scoring engine: DNS, rule watchers) expose close(); accept-all has none. */
async function closeEngine(engine: FilterEngine): Promise<void> {
  const e = engine as FilterEngine & { close?: () => Promise<void> };
  if (typeof e.close === 'function') await e.close();
}
