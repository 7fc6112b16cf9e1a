/**
 * A store call whose reply arrived in time must not fail because the event loop was busy past the
 * deadline: Node runs expired timers before it reads the sockets that became readable meanwhile,
 * so a plain deadline timer failed such calls (`*_UNAVAILABLE` under load while Redis was fine).
 * Real redis-server; the loop is blocked synchronously right after the command was written, for
 * longer than the 100 ms deadline, while Redis answers within a millisecond.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createStores } from '../../src/store/index.js';
import { StoreUnavailableError, type Stores } from '../../src/store/stores-api.js';
import { RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let stores: Stores;
beforeAll(async () => {
  server = await RedisServer.start();
  const cfg = configSchema.parse({ redis: { url: server.url, prefix: `d${Math.random().toString(36).slice(2, 8)}:`, commandTimeoutMs: 100 } }).redis;
  stores = createStores(cfg, { metrics: createMetrics() });
  expect(await stores.ready(5000)).toBe(true);
});
afterAll(async () => {
  await stores?.close();
  await server?.stop();
});

function blockLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy: the event loop cannot read the reply */
  }
}

const bucket = (n: number) => ({ key: `ip:192.0.2.${n}`, ratePerSec: 1, burst: 10 });

describe('store deadline and a busy event loop', () => {
  it('uses a reply that arrived while the loop was blocked past the deadline', async () => {
    await stores.ratelimit.take([bucket(1)], Date.now()); // script loaded, connection warm
    const redisPort = Number(new URL(server.url).port);
    const write = net.Socket.prototype.write;
    let blocks = 0;
    let armed = false;
    // Block the loop right after the command's bytes reach the kernel (same tick as the write),
    // so the reply arrives while the loop is blocked and is waiting when the deadline expires.
    net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
      const r = (write as (...a: unknown[]) => boolean).apply(this, args);
      if (armed && this.remotePort === redisPort) {
        armed = false;
        blocks++;
        process.nextTick(() => blockLoop(250));
      }
      return r;
    } as typeof write;
    try {
      for (let i = 0; i < 5; i++) {
        armed = true;
        const [r] = await stores.ratelimit.take([bucket(2 + i)], Date.now());
        expect(r).toMatchObject({ allowed: true, remaining: 9 });
      }
    } finally {
      net.Socket.prototype.write = write;
    }
    expect(blocks).toBe(5);
  });

  it('still fails within the deadline when Redis really does not answer', async () => {
    server.pause(); // SIGSTOP
    try {
      const started = Date.now();
      await expect(stores.ratelimit.take([bucket(20)], Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(90);
      expect(took).toBeLessThan(1000); // the deadline (100 ms), not ioredis' 1200 ms backstop, no hang
    } finally {
      server.resume();
    }
  });
});
