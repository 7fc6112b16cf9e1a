/**
 * The per-login rate limit behind a trusted upstream, end to end: a real SMTP client (raw socket)
 * → the SMTP proxy → the real engine with the Redis stores (real redis-server) → a real SMTP
 * sink. The upstream names the authenticated submitter with MAIL FROM `AUTH=<mailbox>`
 * (RFC 4954 §5); spamgate believes it only from `upstream.trustAuthFrom` clients.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildEngine } from '../../src/app/build-engine.js';
import { parseConfigText } from '../../src/config/loader.js';
import { configSchema } from '../../src/config/schema.js';
import type { Engine } from '../../src/core/engine.js';
import type { DnsResolver } from '../../src/dns/resolver-api.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { buildRatelimitChecks } from '../../src/ratelimit/checks.js';
import { createStores } from '../../src/store/index.js';
import type { Stores } from '../../src/store/stores-api.js';
import { startRedis } from '../helpers/redis-server.js';
import { startProxy, type Harness } from '../helpers/smtp-proxy-harness.js';
import { RawSmtp } from '../helpers/smtp-raw.js';
import { startSink, type Sink } from '../helpers/smtp-sink.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
let sink: Sink;
beforeAll(async () => {
  [redis, sink] = await Promise.all([startRedis(), startSink()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([redis?.stop(), sink?.close()]);
});

interface Rig {
  prefix: string;
  proxy: Harness;
  engine: Engine;
  stores: Stores;
}
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.proxy.close();
  await rig?.engine.close();
  await rig?.stores.close();
  rig = undefined;
});

/** Proxy on 127.0.0.1 (the client is loopback, as behind a local Postfix) with only the rate limits on. */
async function start(trustAuthFrom: string[]): Promise<Rig> {
  const prefix = `a${randomBytes(4).toString('hex')}:`;
  const stores = createStores(configSchema.parse({ redis: { url: redis.url, prefix, commandTimeoutMs: 1000 } }).redis);
  if (!(await stores.ready(10_000))) throw new Error('redis not ready');
  const yaml = [
    'checks:',
    '  reputation: { enabled: false }',
    '  greylist: { enabled: false }',
    '  history: { enabled: false }',
    '  ratelimit:',
    '    auth: { perMinute: 1, burst: 2 }',
    'upstream:',
    `  trustAuthFrom: ${JSON.stringify(trustAuthFrom)}`,
  ].join('\n');
  const loaded = parseConfigText(yaml, '/tmp/test.yaml');
  const engine = await buildEngine(loaded, {
    log: silentLogger,
    metrics: createMetrics(),
    dns: {} as DnsResolver,
    stores,
    factories: [(s) => buildRatelimitChecks(s)],
  });
  const proxy = await startProxy(sink.port, {}, engine);
  rig = { prefix, proxy, engine, stores };
  return rig;
}

/** One transaction on a fresh connection; the MAIL reply, and the DATA reply when MAIL passed. */
async function submit(port: number, mailParams: string): Promise<{ mail: string; data?: string }> {
  const c = await RawSmtp.connect(port);
  try {
    await c.read();
    await c.cmd('EHLO submission.example.org');
    const m = await c.cmd(`MAIL FROM:<user@example.org>${mailParams}`);
    const mail = `${m?.code} ${m?.text}`;
    if (m?.code !== 250) return { mail };
    await c.cmd('RCPT TO:<rcpt@example.net>');
    await c.cmd('DATA');
    c.write('Subject: hi\r\n\r\nbody\r\n.\r\n');
    const d = await c.read();
    await c.cmd('QUIT');
    return { mail, data: `${d?.code} ${d?.text}` };
  } finally {
    c.close();
  }
}

describe('per-login rate limit from MAIL FROM AUTH= (RFC 4954 §5)', () => {
  it('limits each login passed by a trusted upstream, even on loopback (skipNetworks), and delivers the rest', async () => {
    const { proxy, prefix } = await start(['127.0.0.1/32']);
    const before = sink.messages.length;
    const alice = [];
    for (let i = 0; i < 3; i++) alice.push(await submit(proxy.port, ' AUTH=alice@example.org'));
    expect(alice.map((r) => r.mail.slice(0, 3))).toEqual(['250', '250', '451']);
    expect(alice[2]!.mail).toMatch(/^451 4\.7\.0 Rate limit exceeded for this login, please try again in \d+ seconds$/);
    expect(alice[0]!.data).toMatch(/^250 /);
    // Another login has its own bucket, named by the xtext-decoded mailbox (RFC 3461 §4: "+2B" is "+").
    expect((await submit(proxy.port, ' AUTH=bob+2Btag@example.org')).mail).toMatch(/^250 /);
    const r = new Redis(redis.url);
    try {
      expect(await r.exists(`${prefix}rl:{auth:bob+tag@example.org}`, `${prefix}rl:{auth:alice@example.org}`)).toBe(2);
    } finally {
      await r.quit();
    }
    // AUTH=<> (submitter unknown) and no AUTH= at all: no login, no login limit.
    for (let i = 0; i < 3; i++) expect((await submit(proxy.port, ' AUTH=<>')).mail).toMatch(/^250 /);
    for (let i = 0; i < 3; i++) expect((await submit(proxy.port, '')).mail).toMatch(/^250 /);
    expect(sink.messages.length - before).toBe(2 + 1 + 3 + 3);
  }, 30_000);

  it('ignores AUTH= from a client outside trustAuthFrom: it is only a claim', async () => {
    const { proxy } = await start(['192.0.2.0/24']);
    for (let i = 0; i < 4; i++) expect((await submit(proxy.port, ' AUTH=alice@example.org')).mail).toMatch(/^250 /);
  }, 30_000);
});
