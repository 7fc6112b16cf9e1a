/**
 * Readiness probes for `/readyz` (issue 6): is the SMTP side listening, is the downstream MTA
 * reachable, are the rules loaded. A probe answers from a cache for a few seconds so a scraper
 * polling every second does not open a downstream connection per poll.
 */
import net from 'node:net';
import type { ReadinessProbe } from '../metrics/admin-server.js';

/**
 * A TCP connect to host:port with a short deadline (a connect, not an SMTP session: Postfix logs
 * a "lost connection after CONNECT" line, nothing worse). The result is cached for `cacheMs`.
 */
export function downstreamProbe(target: () => { host: string; port: number }, opts: { timeoutMs?: number; cacheMs?: number | undefined } = {}): ReadinessProbe {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const cacheMs = opts.cacheMs ?? 5000;
  let last: { at: number; ok: boolean } | undefined;
  let inFlight: Promise<boolean> | undefined;
  const connect = () =>
    new Promise<boolean>((resolve) => {
      const { host, port } = target();
      const s = net.connect({ host, port });
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
  return {
    name: 'downstream',
    check() {
      if (last && Date.now() - last.at < cacheMs) return last.ok;
      // Concurrent scrapes share one connect.
      inFlight ??= connect().then((ok) => {
        last = { at: Date.now(), ok };
        inFlight = undefined;
        return ok;
      });
      return inFlight;
    },
  };
}

/** A probe over a synchronous condition. */
export function flagProbe(name: string, ok: () => boolean): ReadinessProbe {
  return { name, check: ok };
}
