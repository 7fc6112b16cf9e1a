/**
 * The history admin route mounted on the real admin HTTP server, reading a real Redis:
 * what `curl http://admin/history?…` shows an admin.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createAdminServer } from '../../src/metrics/admin-server.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { configSchema } from '../../src/config/schema.js';
import { createStores } from '../../src/store/index.js';
import { historyHandler } from '../../src/store/hooks.js';
import type { Stores } from '../../src/store/stores-api.js';
import { startRedis } from '../helpers/redis-server.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
let stores: Stores;
let admin: ReturnType<typeof createAdminServer>;
let base: string;

beforeAll(async () => {
  redis = await startRedis();
  stores = createStores(configSchema.parse({ redis: { url: redis.url, prefix: 'adm:' } }).redis);
  if (!(await stores.ready(5000))) throw new Error('redis not ready');
  admin = createAdminServer({ registry: createMetrics().registry, routes: { '/history': historyHandler(stores) } });
  const addr = await admin.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${addr.port}`;
}, 20_000);
afterAll(async () => {
  await admin?.close();
  await stores?.close();
  await redis?.stop();
});

it('serves the newest verdicts as JSON and text, filtered', async () => {
  for (let i = 1; i <= 4; i++) {
    await stores.history.push({
      time: Date.UTC(2026, 0, 2, 8, i),
      sessionId: `adm${i}`,
      clientIp: `203.0.113.${i}`,
      mailFrom: `news${i}@example.org`,
      rcptTo: ['user@example.net'],
      subject: `Issue ${i}`,
      score: i * 4,
      action: i * 4 >= 15 ? 'reject' : i * 4 >= 6 ? 'tag' : 'accept',
      symbols: [{ name: 'RBL_TEST', score: i * 4 }],
    });
  }
  const all = (await (await fetch(`${base}/history?limit=3`)).json()) as { sessionId: string; action: string }[];
  expect(all.map((e) => [e.sessionId, e.action])).toEqual([
    ['adm4', 'reject'],
    ['adm3', 'tag'],
    ['adm2', 'tag'],
  ]);
  const text = await (await fetch(`${base}/history?format=text&ip=203.0.113.1`)).text();
  expect(text).toBe('2026-01-02T08:01:00.000Z adm1 203.0.113.1 accept 4 <news1@example.org> -> <user@example.net> "Issue 1" RBL_TEST(4)\n');
  expect((await fetch(`${base}/history?limit=-1`)).status).toBe(400);
});
