/**
 * Drives the real engine (src/app/build-engine.ts) with the Redis-backed checks, the greylist
 * modifier and the reputation/history observers, against any Stores, under an injected clock.
 * Two tiny test checks stand in for the rest of the pipeline:
 * - `test_score` (data) emits TEST_SCORE with the weight given in the message's `X-Test-Score`;
 * - `auth` (data) publishes the DKIM and DMARC facts named in `X-Test-Dkim` / `X-Test-Dmarc`.
 */
import { buildEngine } from '../../src/app/build-engine.js';
import { parseConfigText } from '../../src/config/loader.js';
import type { Engine } from '../../src/core/engine.js';
import type { DataResult, StageResult } from '../../src/core/engine-api.js';
import { DKIM, DMARC } from '../../src/core/facts.js';
import type { CheckFactory } from '../../src/core/services.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log.js';
import { ratelimitCheck, buildRatelimitChecks } from '../../src/ratelimit/checks.js';
import { buildReputationChecks } from '../../src/reputation/checks.js';
import { storeModifiers, storeObservers } from '../../src/store/hooks.js';
import type { Stores } from '../../src/store/stores-api.js';
import type { DnsResolver } from '../../src/dns/resolver-api.js';

void ratelimitCheck;

export class TestClock {
  constructor(public t: number = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

function header(msg: Buffer, name: string): string | undefined {
  const head = msg.toString('latin1').split('\r\n\r\n')[0]!;
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m?.[1]?.trim();
}

const scoreCheck: CheckFactory = () => ({
  name: 'test_score',
  stage: 'data',
  timeoutMs: 1000,
  symbols: [{ name: 'TEST_SCORE', score: 1, description: 'test: score from X-Test-Score' }],
  run(ctx) {
    const w = Number(header(ctx.session.message!, 'X-Test-Score') ?? 0);
    if (w) ctx.emit('TEST_SCORE', [], w);
  },
});

const fakeAuthCheck: CheckFactory = () => ({
  name: 'auth',
  stage: 'data',
  timeoutMs: 1000,
  symbols: [],
  run(ctx) {
    const msg = ctx.session.message!;
    const dkim = header(msg, 'X-Test-Dkim');
    const from = header(msg, 'X-Test-From');
    if (dkim) ctx.facts.set(DKIM, [{ domain: dkim, selector: 's', result: 'pass' }]);
    if (from) ctx.facts.set(DMARC, { result: (header(msg, 'X-Test-Dmarc') ?? 'fail') as 'pass', policy: 'none', domain: from });
  },
});

const noDns = {} as DnsResolver;

export interface Tx {
  ip: string;
  helo?: string;
  from?: string;
  rcpts?: string[];
  score?: number;
  headers?: Record<string, string>;
  subject?: string;
}

export interface TxResult {
  connect: StageResult;
  helo?: StageResult;
  mail?: StageResult;
  rcpts: StageResult[];
  data?: DataResult;
}

export interface EngineHarness {
  readonly engine: Engine;
  readonly clock: TestClock;
  readonly stores: Stores;
  send(tx: Tx): Promise<TxResult>;
  close(): Promise<void>;
}

export async function storeEngine(stores: Stores, yaml = '', clock = new TestClock()): Promise<EngineHarness> {
  const loaded = parseConfigText(yaml, '/tmp/test.yaml');
  const factories: CheckFactory[] = [
    (s) => buildRatelimitChecks(s, clock.now),
    (s) => buildReputationChecks(s, clock.now),
    scoreCheck,
    fakeAuthCheck,
  ];
  const engine = await buildEngine(loaded, {
    log: silentLogger,
    metrics: createMetrics(),
    dns: noDns,
    stores,
    factories,
    modifiers: storeModifiers(loaded.config, stores, clock.now),
    observers: storeObservers(loaded.config, stores, clock.now),
  });
  let n = 0;
  return {
    engine,
    clock,
    stores,
    async send(tx) {
      const s = engine.open('smtp', `t${++n}`);
      const r: TxResult = { connect: await s.connect({ ip: tx.ip, port: 40000, tls: false }), rcpts: [] };
      try {
        if (r.connect.action !== 'continue') return r;
        r.helo = await s.helo(tx.helo ?? 'mail.example.org');
        r.mail = await s.mail(tx.from ?? 'sender@example.org', {});
        if (r.mail.action !== 'continue') return r;
        for (const rc of tx.rcpts ?? ['user@example.net']) r.rcpts.push(await s.rcpt(rc));
        if (!r.rcpts.some((x) => x.action === 'continue')) return r;
        const headers = { Subject: tx.subject ?? 'test message', 'X-Test-Score': String(tx.score ?? 0), ...tx.headers };
        const msg = Buffer.from(
          Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('') + '\r\nbody\r\n',
        );
        r.data = await s.data(msg);
        const a = r.data.verdict.action;
        if (a === 'accept' || a === 'tag') s.delivered({ accepted: true, code: 250, text: '2.0.0 queued' });
        return r;
      } finally {
        s.close();
        await engine.flush();
      }
    },
    close: () => engine.close(),
  };
}

export function symbolsOf(r: TxResult): Record<string, number> {
  return Object.fromEntries((r.data?.verdict.symbols ?? []).map((s) => [s.name, s.score]));
}
