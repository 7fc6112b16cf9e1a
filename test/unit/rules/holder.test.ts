/** RuleSetHolder: atomic reload (a bad reload keeps the old set), metrics, and file watching. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuleSetHolder } from '../../../src/rules/holder.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import type { RuleSet } from '../../../src/rules/types.js';

const rule = (id: string, body = '/x/') => `rules:\n  - id: ${id}\n    description: d\n    score: 1\n    category: other\n    body: '${body}'\n`;

let dir: string;
let holder: RuleSetHolder | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-holder-'));
});
afterEach(() => {
  holder?.unwatch();
  holder = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const ids = (h: RuleSetHolder) => h.current().rules.map((r) => r.id);
async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('RuleSetHolder', () => {
  test('reload swaps the set; a bad reload keeps the previous one and says why', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('FIRST'));
    const metrics = createMetrics();
    holder = new RuleSetHolder({ paths: ['.'], spamassassin: [], baseDir: dir }, undefined, metrics);
    expect(holder.loadInitial()).toEqual([]);
    expect(ids(holder)).toEqual(['FIRST']);
    const first = holder.current();

    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('SECOND'));
    expect(await holder.reload()).toEqual({ ok: true, errors: [], keptPrevious: false });
    expect(ids(holder)).toEqual(['SECOND']);
    expect(holder.current()).not.toBe(first);

    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('THIRD', '/(?=lookahead)/'));
    const bad = await holder.reload();
    expect(bad.ok).toBe(false);
    expect(bad.keptPrevious).toBe(true);
    expect(bad.errors).toEqual([expect.stringMatching(/a\.yaml:6: THIRD: RE2 cannot compile/)]);
    expect(ids(holder)).toEqual(['SECOND']);

    expect(await metricValue(metrics, 'spamgate_rule_reloads_total', { result: 'ok' })).toBe(1);
    expect(await metricValue(metrics, 'spamgate_rule_reloads_total', { result: 'error' })).toBe(1);
    expect(await metricValue(metrics, 'spamgate_rules_loaded', { source: 'yaml' })).toBe(1);
  });

  test('a reload its validators refuse (e.g. a symbol another check declares) keeps the previous set', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('FIRST'));
    holder = new RuleSetHolder({ paths: ['.'], spamassassin: [], baseDir: dir });
    expect(holder.loadInitial()).toEqual([]);
    const swaps: string[][] = [];
    holder.onChange((set) => swaps.push(set.rules.map((r) => r.id)));
    holder.addValidator((set) => (set.rules.some((r) => r.id === 'R_SPF_FAIL') ? ['symbol R_SPF_FAIL is declared by check spf'] : []));

    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('R_SPF_FAIL'));
    expect(await holder.reload()).toEqual({ ok: false, errors: ['symbol R_SPF_FAIL is declared by check spf'], keptPrevious: true });
    expect(ids(holder)).toEqual(['FIRST']);
    expect(swaps).toEqual([]);

    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('OWN_SYMBOL'));
    expect((await holder.reload()).ok).toBe(true);
    expect(swaps).toEqual([['OWN_SYMBOL']]);
  });

  test('concurrent reloads share one load', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('ONE'));
    holder = new RuleSetHolder({ paths: ['.'], spamassassin: [], baseDir: dir });
    const a = holder.reload();
    expect(holder.reload()).toBe(a);
    await a;
  });

  test('watch reloads after a file changes (debounced) and onChange fires', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('BEFORE'));
    holder = new RuleSetHolder({ paths: ['.'], spamassassin: [], baseDir: dir }, undefined, undefined, 20);
    holder.loadInitial();
    const changed = new Promise<RuleSet>((resolve) => holder!.onChange(resolve));
    holder.watch();
    fs.writeFileSync(path.join(dir, 'b.yaml'), rule('ADDED'));
    const set = await changed;
    expect(set.rules.map((r) => r.id)).toEqual(['BEFORE', 'ADDED']);
    expect(ids(holder)).toEqual(['BEFORE', 'ADDED']);
  });
});
