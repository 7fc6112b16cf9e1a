/** Small test checks and an engine built from them (our own Check interface, no mocks). */
import { parseConfigText } from '../../../src/config/loader.js';
import type { Config } from '../../../src/config/schema.js';
import { Engine, type EngineSession } from '../../../src/core/engine.js';
import type { TransactionObserver, VerdictModifier } from '../../../src/core/engine-api.js';
import { CheckRegistry } from '../../../src/core/registry.js';
import type { Check, CheckContext, Stage, SymbolDef } from '../../../src/core/types.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics/metrics.js';

export function config(yaml = ''): Config {
  return parseConfigText(yaml, 'test.yaml').config;
}

export function sym(name: string, score = 1, description = `test ${name}`): SymbolDef {
  return { name, score, description };
}

/** A check that runs `fn` (default: emit its first symbol). */
export function testCheck(
  name: string,
  stage: Stage,
  symbols: readonly SymbolDef[],
  fn?: (ctx: CheckContext) => Promise<void> | void,
  extra: Partial<Pick<Check, 'dependsOn' | 'timeoutMs'>> = {},
): Check {
  return {
    name,
    stage,
    symbols,
    timeoutMs: extra.timeoutMs ?? 1000,
    ...(extra.dependsOn ? { dependsOn: extra.dependsOn } : {}),
    run: fn ?? ((ctx) => ctx.emit(symbols[0]!.name)),
  };
}

export function engineWith(
  checks: Check[],
  yaml = '',
  hooks: { modifiers?: VerdictModifier[]; observers?: TransactionObserver[] } = {},
): { engine: Engine; metrics: ReturnType<typeof createMetrics> } {
  const cfg = config(yaml);
  const metrics = createMetrics();
  const registry = CheckRegistry.build(checks, cfg.scores);
  return { engine: new Engine({ registry, config: cfg, log: silentLogger, metrics, ...hooks }), metrics };
}

export const CLIENT = { ip: '192.0.2.10', port: 40000, tls: false } as const;

export const MESSAGE = Buffer.from(
  'From: a@example.org\r\nTo: b@example.com\r\nSubject: Hello there\r\nX-Spam-Flag: NO\r\n\r\nbody\r\n',
);

/** connect → helo → mail → rcpt… → data. */
export async function transaction(s: EngineSession, from: string, rcpts: string[], msg: Buffer = MESSAGE) {
  const stages = [await s.connect(CLIENT), await s.helo('client.example.org'), await s.mail(from, {})];
  for (const r of rcpts) stages.push(await s.rcpt(r));
  const data = await s.data(msg);
  return { stages, data };
}

export async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return v?.value ?? 0;
}
