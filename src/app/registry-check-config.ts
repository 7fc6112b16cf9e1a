/**
 * `spamgate check-config` validator for the check registry: instantiates every enabled check as
 * the daemon would (embedded stores, no network traffic) and reports duplicate checks or symbols,
 * bad dependencies, `scores:` overrides naming unknown symbols and `disabledChecks` naming unknown
 * checks — each at its line in the config file where there is one. Registered from cli/main.ts.
 */
import fs from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isNode } from 'yaml';
import { addConfigValidator, type ConfigValidator } from '../cli/check-config.js';
import { createDnsResolver } from '../dns/index.js';
import { silentLogger } from '../log.js';
import { createMetrics } from '../metrics/metrics.js';
import { createMemoryStores } from '../store/index.js';
import { storeModifiers } from '../store/hooks.js';
import { rulesHolderFor } from '../checks/data/rules.js';
import type { CheckServices } from '../core/services.js';
import { buildRegistry } from './build-engine.js';

export const registryValidator: ConfigValidator = async (loaded, report) => {
  const metrics = createMetrics();
  const stores = createMemoryStores({ failMode: loaded.config.redis.failMode });
  try {
    const services: CheckServices = {
      config: loaded.config,
      baseDir: loaded.baseDir,
      log: silentLogger,
      metrics,
      dns: createDnsResolver(loaded.config.dns, { metrics, log: silentLogger }),
      stores,
    };
    const { problems, checks } = buildRegistry(services, undefined, storeModifiers(loaded.config, stores));
    rulesHolderFor(services)?.unwatch();
    report.checks = checks.map((c) => c.name);
    const locate = locator(loaded.file);
    // With a check that failed to build, its symbols are unknown: score overrides naming them
    // would be reported falsely, so only the factory failure is reported.
    const factoryFailed = problems.some((m) => m.startsWith('check factory '));
    for (const message of problems) {
      if (factoryFailed && /^scores\./.test(message)) continue;
      // Rule-file errors are reported (with file:line) by the rules validator.
      if (message.startsWith('check factory rulesCheck failed')) continue;
      const keyPath = keyPathOf(message);
      const { line, column } = keyPath ? locate(keyPath) : { line: 0, column: 0 };
      const text = keyPath ? message.slice(message.indexOf(': ') + 2) : message;
      report.problems.push({ file: loaded.file, line, column, key: keyPath?.join('.') ?? '', message: text });
    }
  } finally {
    await stores.close();
  }
};

/** The config key a registry problem is about, when it names one. */
function keyPathOf(message: string): string[] | undefined {
  const score = /^scores\.([A-Za-z0-9_]+): /.exec(message);
  if (score) return ['scores', score[1]!];
  const dis = /^policy\.domains\.(.+)\.disabledChecks: /.exec(message);
  if (dis) return ['policy', 'domains', dis[1]!, 'disabledChecks'];
  return undefined;
}

/** key path → line/column of that key in the YAML file (1-based; 0 when not found). */
function locator(file: string): (keyPath: string[]) => { line: number; column: number } {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return () => ({ line: 0, column: 0 });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  return (keyPath) => {
    let node: unknown = doc.contents;
    let pos: { line: number; column: number } = { line: 0, column: 0 };
    for (const k of keyPath) {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value).toLowerCase() === k.toLowerCase());
      if (!pair) break;
      if (isNode(pair.key) && pair.key.range) {
        const lp = lc.linePos(pair.key.range[0]);
        pos = { line: lp.line, column: lp.col };
      }
      node = pair.value;
    }
    return pos;
  };
}

let registered = false;
/** Idempotent registration. */
export function registerRegistryValidator(): void {
  if (registered) return;
  registered = true;
  addConfigValidator(registryValidator);
}
registerRegistryValidator();
