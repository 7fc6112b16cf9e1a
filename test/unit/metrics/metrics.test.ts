import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createClusterMetrics, createMetrics } from '../../../src/metrics/metrics.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));

describe('metrics', () => {
  it('every instrument follows Prometheus naming (spamgate_ prefix, _total counters, base units)', async () => {
    const m = createMetrics();
    for (const metric of await m.registry.getMetricsAsJSON()) {
      expect(metric.name).toMatch(/^spamgate_[a-z0-9_]+$/);
      if (String(metric.type) === 'counter') expect(metric.name).toMatch(/_total$/);
      else expect(metric.name).not.toMatch(/_total$/);
      if (String(metric.type) === 'histogram') expect(metric.name).toMatch(/_(seconds|bytes|score)$/);
    }
  });

  it('the Grafana dashboard only queries metrics that exist', async () => {
    const m = createMetrics();
    const names = new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
    const dash = fs.readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const used = new Set([...dash.matchAll(/spamgate_[a-z0-9_]+/g)].map((x) => x[0].replace(/_(bucket|sum|count)$/, '')));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(names.has(name) ? name : `missing: ${name}`).toBe(name);
  });

  it('the docs and README only name metrics that exist (queries an admin copies must work)', async () => {
    const m = createMetrics({ collectDefault: true });
    const primary = createClusterMetrics();
    const names = new Set([...(await m.registry.getMetricsAsJSON()), ...(await primary.registry.getMetricsAsJSON())].map((x) => x.name));
    const dir = new URL('../../../docs/', import.meta.url);
    const files = [...fs.readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => new URL(f, dir)), new URL('../../../README.md', import.meta.url)];
    const named = new Set<string>();
    for (const f of files) {
      // A bare `spamgate_` (the prefix itself, in prose) names no metric.
      for (const x of fs.readFileSync(f, 'utf8').matchAll(/\bspamgate_[a-z0-9_]*[a-z0-9]/g)) named.add(x[0].replace(/_(bucket|sum|count)$/, ''));
    }
    expect(named.has('spamgate_process_cpu_seconds_total')).toBe(true);
    for (const name of named) expect(names.has(name) ? name : `missing: ${name}`).toBe(name);
  });

  // promtool is the reference linter (Debian package prometheus, installed by .ci/run).
  it('promtool check metrics reports nothing for our own metrics', async () => {
    expect(PROMTOOL ?? 'promtool not installed: apt-get install prometheus').toMatch(/promtool$/);
    const m = createMetrics({ collectDefault: true });
    m.messages.inc({ action: 'accept', frontend: 'smtp' });
    m.checkDuration.observe({ check: 'rules' }, 0.002);
    const text = await m.registry.metrics();
    const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // prom-client's default process gauges `*_active_{handles,requests,resources}_total` are known
    // promtool complaints (FIELD-NOTES §8) and are not ours.
    const complaints = (r.stdout + r.stderr)
      .split('\n')
      .filter((l) => l.trim() && !/nodejs_active_(handles|requests|resources)_total/.test(l));
    expect(complaints).toEqual([]);
  });
});
