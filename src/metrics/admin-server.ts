/**
 * The admin HTTP endpoint on `admin.listen`: `/metrics` (Prometheus text format), `/healthz`
 * (process alive), `/readyz` (listening, downstream reachable, rules loaded), plus routes that
 * features mount (e.g. `/history`). Plain node:http: three GET routes do not justify a framework.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ReadinessProbe {
  /** Short name shown in /readyz output, e.g. `downstream`. */
  readonly name: string;
  check(): Promise<boolean> | boolean;
}

export type AdminRoute = (req: http.IncomingMessage, url: URL) => Promise<{ status: number; type: string; body: string }>;

export interface AdminServerOptions {
  readonly registry: Registry;
  readonly readiness?: readonly ReadinessProbe[];
  readonly routes?: Readonly<Record<string, AdminRoute>>;
  /** Override how /metrics text is produced (multi-worker aggregation). */
  readonly metricsText?: () => Promise<string>;
}

export interface AdminServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createAdminServer(opts: AdminServerOptions): AdminServer {
  const routes: Record<string, AdminRoute> = {
    '/metrics': async () => ({
      status: 200,
      type: opts.registry.contentType,
      body: opts.metricsText ? await opts.metricsText() : await opts.registry.metrics(),
    }),
    '/healthz': async () => ({ status: 200, type: 'text/plain', body: 'ok\n' }),
    '/readyz': async () => {
      const results = await Promise.all(
        (opts.readiness ?? []).map(async (p) => {
          try {
            return [p.name, await p.check()] as const;
          } catch {
            return [p.name, false] as const;
          }
        }),
      );
      const ok = results.every(([, r]) => r);
      return {
        status: ok ? 200 : 503,
        type: 'text/plain',
        body: results.map(([n, r]) => `${n}: ${r ? 'ok' : 'FAIL'}`).join('\n') + (results.length ? '\n' : '') + (ok ? 'ready\n' : 'not ready\n'),
      };
    },
    ...opts.routes,
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = req.method === 'GET' ? routes[url.pathname] : undefined;
    if (!route) {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    route(req, url).then(
      (r) => res.writeHead(r.status, { 'content-type': r.type }).end(r.body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`error: ${(e as Error).message}\n`),
    );
  });
  // Admin clients are scrapers and curl: keep idle sockets from pinning shutdown.
  server.keepAliveTimeout = 5000;

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(server.address() as AddressInfo));
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
