/**
 * `spamgate serve`: run the SMTP proxy daemon on every `listen` entry, and the admin endpoint
 * (/metrics, /healthz, /readyz, /history) on `admin.listen`.
 *
 * `workers: 1` runs everything in this process; `workers: N|auto` runs a primary and N worker
 * processes sharing the listeners (src/app/cluster.ts).
 *
 * SIGTERM/SIGINT: stop accepting, let transactions in flight finish (limits.drainTimeoutMs), 421
 * the rest, exit 0. SIGHUP: re-read and validate the config and rules; on any problem keep the
 * running ones and log every problem.
 */
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig, resolveConfigPath, formatProblem, type LoadedConfig } from '../config/loader.js';
import { createLogger, type Logger } from '../log.js';
import type { Daemon } from '../app/daemon.js';
import { reloadProblems } from '../app/reload-problems.js';
import { resolveWorkers, runPrimary, runWorker } from '../app/cluster.js';

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
  // One or two JSON lines per message. pino's default stdout destination writes each line
  // synchronously: a slow journald (or a full pipe) would stall every SMTP session. Asynchronous
  // instead, but buffered — lines go out in batches of ≥ 2 KB or every 250 ms — because unbuffered
  // async writes cost one thread-pool round trip per line (measured ≈ 0.2–0.4 ms CPU per message
  // more than sync; buffered is on par with sync). Flushed synchronously before every exit.
  // maxWrite = PIPE_BUF: sonic-boom batches whole lines up to that size, and pipe writes of at most
  // PIPE_BUF bytes are atomic, so the workers of a cluster sharing one stdout never interleave
  // parts of lines.
  const dest = pino.destination({ dest: 1, sync: false, minLength: 2048, maxWrite: 4096, periodicFlush: 250 });
  process.on('exit', () => {
    try {
      dest.flushSync();
    } catch {
      /* stdout gone */
    }
  });
  const log = createLogger(loaded.config.logging.level, dest);
  const exit = (code: number) => {
    try {
      dest.flushSync();
    } catch {
      // stdout already gone (EPIPE): nothing left to flush to.
    }
    process.exit(code);
  };
  // Until the daemon is up, a SIGHUP (whose default action terminates) is ignored and
  // SIGTERM/SIGINT end the start-up at once: nothing has been accepted yet.
  const earlyHup = () => log.warn('SIGHUP during start-up ignored');
  const earlyTerm = () => exit(0);
  process.on('SIGHUP', earlyHup);
  process.on('SIGTERM', earlyTerm);
  process.on('SIGINT', earlyTerm);
  const early = () => {
    process.off('SIGHUP', earlyHup);
    process.off('SIGTERM', earlyTerm);
    process.off('SIGINT', earlyTerm);
  };

  if (cluster.isWorker) {
    early();
    try {
      await runWorker(loaded, log, exit);
    } catch (e) {
      log.fatal({ err: e }, 'worker failed to start');
      exit(1);
    }
    return;
  }

  const workers = resolveWorkers(loaded.config.workers);
  if (workers > 1) {
    const primary = await runPrimary(file, loaded, workers, log);
    early();
    log.info({ config: loaded.file, workers, downstream: `${loaded.config.downstream.host}:${loaded.config.downstream.port}` }, 'spamgate started');
    process.on('SIGTERM', primary.stop);
    process.on('SIGINT', primary.stop);
    process.on('SIGHUP', primary.reload);
    void primary.done.then(exit);
    return;
  }

  // A bad tls.key/tls.cert path or admin.listen throws here with a message naming the key: the CLI
  // prints it and exits 1.
  // Imported here, not at the top: a cluster primary never loads the engine and its checks.
  const { startDaemon } = await import('../app/daemon.js');
  const daemon = await startDaemon(loaded, { log });
  early();
  log.info({ config: loaded.file, downstream: `${loaded.config.downstream.host}:${loaded.config.downstream.port}` }, 'spamgate started');
  installSingleProcessSignals(daemon, log, exit);
}

function installSingleProcessSignals(daemon: Daemon, log: Logger, exit: (code: number) => void): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    daemon.reload().catch((e: unknown) => log.error({ problems: reloadProblems(e) }, 'configuration reload failed; keeping the running configuration'));
  });
}
