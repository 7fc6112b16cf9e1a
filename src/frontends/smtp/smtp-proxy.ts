/**
 * The before-queue SMTP proxy, assembled (fastify style: built separately from listen() so tests
 * can drive it on 127.0.0.1:0).
 *
 *   net.Server per `listen` entry → ConnectionGate (PROXY protocol, limits)
 *     → smtp-server (inbound-server.ts) → RelaySession → downstream MTA
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { FilterEngine } from '../../core/engine-api.js';
import { REPLIES } from '../../core/replies.js';
import type { Metrics } from '../../metrics/metrics.js';
import { ConnectionGate, type GateLimits } from './connection-gate.js';
import { createInbound, limitOptions, type TlsMaterial } from './inbound-server.js';
import { fromTable } from './client-reply.js';
import { listenFds, resolveListen } from '../listen-fds.js';

export interface SmtpProxyDeps {
  readonly config: Config;
  /** Directory relative paths in the config (tls.key, tls.cert) resolve against. */
  readonly baseDir: string;
  readonly engine: FilterEngine;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export interface SmtpProxy {
  /** Start every `listen` entry; resolves with the bound addresses (port 0 → the real port). */
  listen(): Promise<{ host: string; port: number }[]>;
  /**
   * Graceful stop: stop accepting, close idle sessions with 421 4.3.2, let transactions in flight
   * finish for up to `drainMs` (default limits.drainTimeoutMs), then 421 the rest.
   */
  close(drainMs?: number): Promise<void>;
  /** Apply a new validated config (SIGHUP). Listen addresses need a restart. */
  reload(next: { config: Config; baseDir: string; engine?: FilterEngine }): void;
}

/** Read and check the inbound TLS key/cert; throws a clear error naming the bad key. */
export function loadTlsMaterial(config: Config, baseDir: string): TlsMaterial | undefined {
  const { key, cert } = config.tls;
  if (!key || !cert) return undefined;
  const read = (what: string, p: string) => {
    const full = path.resolve(baseDir, p);
    try {
      return fs.readFileSync(full);
    } catch (e) {
      throw new Error(`${what}: cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const material = { key: read('tls.key', key), cert: read('tls.cert', cert) };
  try {
    tls.createSecureContext(material);
  } catch (e) {
    throw new Error(`tls.key/tls.cert: not a usable key and certificate pair: ${(e as Error).message}`);
  }
  return material;
}

function gateLimits(c: Config): GateLimits {
  return {
    trusted: c.proxyProtocol.trusted,
    proxyTimeoutMs: c.proxyProtocol.timeoutMs,
    maxClients: c.limits.maxClients,
    maxClientsPerIp: c.limits.maxClientsPerIp,
  };
}

export function createSmtpProxy(deps: SmtpProxyDeps): SmtpProxy {
  let config = deps.config;
  let engine = deps.engine;
  let draining = false;
  const log = deps.log;
  const tlsMaterial = loadTlsMaterial(config, deps.baseDir);
  const inbound = createInbound({
    config: () => config,
    engine: () => engine,
    tls: tlsMaterial,
    log,
    metrics: deps.metrics,
    draining: () => draining,
  });
  const gate = new ConnectionGate(gateLimits(config), {
    log,
    metrics: deps.metrics,
    handoff: (socket, addr) => inbound.server.connect(socket, { ...addr }),
  });
  const servers: net.Server[] = [];

  const shuttingDown = fromTable(REPLIES.shuttingDown);
  const closeConnections = (all: boolean) => {
    for (const conn of inbound.server.connections) {
      const relay = inbound.relays.get(conn.id);
      if (all || !relay || relay.idle) conn.send(shuttingDown.code, shuttingDown.text, false);
    }
  };

  return {
    async listen() {
      const bound: { host: string; port: number }[] = [];
      // host:port entries, and sockets passed by systemd for `systemd[:NAME]` entries (listen-fds.ts).
      for (const { entry, options } of resolveListen(config.listen, listenFds())) {
        const srv = net.createServer(gate.handle);
        await new Promise<void>((resolve, reject) => {
          srv.once('error', (e: Error) => reject(options.fd === undefined ? e : new Error(`listen ${entry} (fd ${options.fd}): ${e.message}`)));
          srv.listen(options, () => {
            srv.off('error', reject);
            resolve();
          });
        });
        srv.on('error', (e) => log.error({ err: e }, 'listener error'));
        servers.push(srv);
        const a = srv.address() as net.AddressInfo;
        bound.push({ host: a.address, port: a.port });
        log.info({ listen: `${a.address}:${a.port}` }, 'listening');
      }
      return bound;
    },

    async close(drainMs = config.limits.drainTimeoutMs) {
      draining = true;
      // close() stops accepting at once; its callback only fires when every connection is gone.
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      const deadline = Date.now() + drainMs;
      log.info({ sessions: inbound.server.connections.size, drainMs }, 'draining');
      while (inbound.server.connections.size > 0 && Date.now() < deadline) {
        closeConnections(false);
        await new Promise((r) => setTimeout(r, 50));
      }
      closeConnections(true);
      // Give the 421s a moment to be written, then make sure nothing keeps the process alive.
      const until = Date.now() + 1000;
      while (gate.sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      for (const s of gate.sockets) s.destroy();
      await closed;
      log.info('drained');
    },

    reload(next) {
      const old = config;
      if (next.config.listen.join(',') !== old.listen.join(',')) log.warn('listen addresses changed: restart spamgate to apply');
      if (JSON.stringify(next.config.tls) !== JSON.stringify(old.tls) || next.baseDir !== deps.baseDir) {
        const material = loadTlsMaterial(next.config, next.baseDir);
        if (material && tlsMaterial) inbound.server.updateSecureContext({ key: material.key, cert: material.cert });
        else if (Boolean(material) !== Boolean(tlsMaterial)) log.warn('turning STARTTLS on or off needs a restart');
      }
      config = next.config;
      if (next.engine) engine = next.engine;
      Object.assign(inbound.server.options, limitOptions(config));
      gate.update(gateLimits(config));
    },
  };
}
