/**
 * History: every verdict (accepted, refused, greylisted) lands in the capped list with what an
 * admin needs days later; the admin route and the query filters read it back.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { createMemoryStores } from '../../../src/store/memory.js';
import { historyHandler } from '../../../src/history/handler.js';
import { formatHistoryLine, queryHistory } from '../../../src/history/query.js';
import { storeEngine, type EngineHarness } from '../../helpers/redis-engine.js';
import type { Stores } from '../../../src/store/stores-api.js';
import { StoreUnavailableError } from '../../../src/store/stores-api.js';

const BASE = 'checks:\n  ratelimit:\n    enabled: false\n  history:\n    maxEntries: 3\n';
const get = (route: ReturnType<typeof historyHandler>, q: string) => route({} as IncomingMessage, new URL(`http://admin/history${q}`));

describe('history', () => {
  let h: EngineHarness;
  afterEach(async () => h?.close());

  it('records each verdict with envelope, subject, score, action, symbols and outcome', async () => {
    const stores = createMemoryStores();
    h = await storeEngine(stores, BASE);
    await h.send({ ip: '192.0.2.1', helo: 'mx1.example.org', from: 'a@example.org', rcpts: ['u@example.net'], score: 1, subject: 'Lunch?' });
    h.clock.advance(1000);
    await h.send({ ip: '192.0.2.2', from: 'b@spam.example', rcpts: ['v@example.net', 'w@example.net'], score: 20, subject: '=?UTF-8?B?R2V3aW5u?= now' });
    const [rejected, accepted] = await stores.history.list(10);
    expect(rejected).toMatchObject({
      clientIp: '192.0.2.2',
      mailFrom: 'b@spam.example',
      rcptTo: ['v@example.net', 'w@example.net'],
      subject: 'Gewinn now',
      score: 20,
      action: 'reject',
      symbols: [{ name: 'TEST_SCORE', score: 20 }],
      outcome: expect.stringMatching(/^550 Message rejected as spam/),
    });
    expect(accepted).toMatchObject({ helo: 'mx1.example.org', subject: 'Lunch?', action: 'accept', outcome: '250 2.0.0 queued' });
    expect(rejected!.time - accepted!.time).toBe(1000);
    expect(formatHistoryLine(rejected!)).toMatch(/reject 20 <b@spam\.example> -> <v@example\.net>,<w@example\.net> "Gewinn now" TEST_SCORE\(20\) => 550/);
  });

  it('is capped at maxEntries and filterable; the admin route answers JSON and text', async () => {
    const stores = createMemoryStores();
    h = await storeEngine(stores, BASE);
    for (let i = 1; i <= 5; i++) await h.send({ ip: `192.0.2.${i}`, from: `s${i}@example.org`, score: i });
    expect((await stores.history.list(100)).map((e) => e.clientIp)).toEqual(['192.0.2.5', '192.0.2.4', '192.0.2.3']);
    expect((await queryHistory(stores.history, { limit: 10, address: 'S4@' })).map((e) => e.clientIp)).toEqual(['192.0.2.4']);
    const route = historyHandler(stores);
    const json = await get(route, '?limit=2');
    expect(json.status).toBe(200);
    expect((JSON.parse(json.body) as unknown[]).length).toBe(2);
    const text = await get(route, '?format=text&ip=192.0.2.3');
    expect(text.body.trim().split('\n')).toHaveLength(1);
    expect((await get(route, '?limit=0')).status).toBe(400);
  });

  it('answers 503 when the store is down', async () => {
    const stores: Pick<Stores, 'history'> = { history: { push: async () => {}, list: () => Promise.reject(new StoreUnavailableError('history', 'list')) } };
    expect((await get(historyHandler(stores), '')).status).toBe(503);
  });
});
