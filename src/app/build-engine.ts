/**
 * The one place a FilterEngine is assembled from configuration: shared services (DNS resolver,
 * stores), every check from `checkFactories`, the check registry (refusing bad symbol/score/
 * dependency setups at boot, every problem at once) and the engine with its post-verdict hooks.
 * Used by `serve`, `scan`, `symbols` and `check-config`, so they all see the same engine.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader.js';
import { checkFactories } from '../checks/index.js';
import { rulesHolderFor, ruleSymbols } from '../checks/data/rules.js';
import { Engine } from '../core/engine.js';
import type { TransactionObserver, VerdictModifier } from '../core/engine-api.js';
import { CheckRegistry, RegistryError } from '../core/registry.js';
import { PolicyTable } from '../core/policy.js';
import type { CheckFactory, CheckServices } from '../core/services.js';
import type { Check } from '../core/types.js';
import { createDnsResolver } from '../dns/index.js';
import type { DnsResolver } from '../dns/resolver-api.js';
import type { Metrics } from '../metrics/metrics.js';
import { createMemoryStores, createStores } from '../store/index.js';
import { createMetrics } from '../metrics/metrics.js';
import { silentLogger } from '../log.js';
import { storeModifiers, storeObservers } from '../store/hooks.js';
import type { Stores } from '../store/stores-api.js';

export interface EngineDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Default: createDnsResolver(config.dns). */
  readonly dns?: DnsResolver;
  /** Default: createStores(config.redis) (embedded memory store unless Redis is configured). */
  readonly stores?: Stores;
  /** Default: checks/index.ts `checkFactories` (tests pass their own). */
  readonly factories?: readonly CheckFactory[];
  /** Default: storeModifiers (greylisting). */
  readonly modifiers?: readonly VerdictModifier[];
  /** Default: storeObservers (reputation learning, history). */
  readonly observers?: readonly TransactionObserver[];
}

/** Instantiate the checks and the registry; every problem listed, none thrown. */
export function buildRegistry(
  services: CheckServices,
  factories: readonly CheckFactory[] = checkFactories,
  modifiers: readonly VerdictModifier[] = [],
): { registry?: CheckRegistry; checks: Check[]; problems: string[] } {
  const problems: string[] = [];
  const checks: Check[] = [];
  for (const f of factories) {
    try {
      const made = f(services);
      if (made === undefined) continue;
      if (Array.isArray(made)) checks.push(...(made as readonly Check[]));
      else checks.push(made as Check);
    } catch (e) {
      problems.push(`check factory ${f.name || '(anonymous)'} failed: ${(e as Error).message}`);
    }
  }
  const extra = modifiers.filter((m) => m.symbols?.length).map((m) => ({ owner: m.name, symbols: m.symbols! }));
  const { registry, problems: regProblems } = CheckRegistry.tryBuild(checks, services.config.scores, extra);
  problems.push(...regProblems);
  // A domain may only disable checks that exist (a typo would silently run the check).
  const names = new Set(checks.map((c) => c.name));
  for (const [check, domains] of new PolicyTable(services.config).disabledCheckNames()) {
    if (!names.has(check))
      for (const d of domains) problems.push(`policy.domains.${d}.disabledChecks: no enabled check is named "${check}"`);
  }
  return problems.length ? { checks, problems } : { registry: registry!, checks, problems };
}

/**
 * The registry as `check-config` and `symbols` see it: every enabled check instantiated as the
 * daemon would, but with embedded stores and no watchers, so nothing touches Redis or the network.
 * Call `close()` when done.
 */
export function buildOfflineRegistry(loaded: LoadedConfig): ReturnType<typeof buildRegistry> & { close(): Promise<void> } {
  const metrics = createMetrics();
  const stores = createMemoryStores({ failMode: loaded.config.redis.failMode });
  const services: CheckServices = {
    config: loaded.config,
    baseDir: loaded.baseDir,
    log: silentLogger,
    metrics,
    dns: createDnsResolver(loaded.config.dns, { metrics, log: silentLogger }),
    stores,
  };
  const built = buildRegistry(services, undefined, storeModifiers(loaded.config, stores));
  rulesHolderFor(services)?.unwatch();
  return { ...built, close: () => stores.close() };
}

/** The real scoring engine for `serve` and `scan`. Throws RegistryError listing every problem. */
export async function buildEngine(loaded: LoadedConfig, deps: EngineDeps): Promise<Engine> {
  const { config } = loaded;
  const dns = deps.dns ?? createDnsResolver(config.dns, { metrics: deps.metrics, log: deps.log });
  const ownStores = deps.stores === undefined;
  const stores = deps.stores ?? createStores(config.redis, { metrics: deps.metrics, log: deps.log });
  const services: CheckServices = { config, baseDir: loaded.baseDir, log: deps.log, metrics: deps.metrics, dns, stores };
  const modifiers = deps.modifiers ?? storeModifiers(config, stores);
  const observers = deps.observers ?? storeObservers(config, stores);
  const { registry, problems } = buildRegistry(services, deps.factories, modifiers);
  if (!registry) {
    if (ownStores) await stores.close();
    throw new RegistryError(problems);
  }
  const engine = new Engine({
    registry,
    config,
    log: deps.log,
    metrics: deps.metrics,
    modifiers,
    observers,
  });
  if (ownStores) engine.onClose(() => stores.close());
  // The rules check's symbols follow its rule set: re-read the symbol table after each reload.
  // A table with problems is refused (the old one stays) and logged; see CheckRegistry.rebuildSymbols.
  const rules = rulesHolderFor(services);
  if (rules) {
    // Refuse a reloaded rule set whose symbols the registry would refuse, before it goes live.
    rules.addValidator((set) => registry.validateSymbols('rules', ruleSymbols(set)));
    rules.onChange(() => {
      const problems = registry.rebuildSymbols();
      if (problems.length) deps.log.error({ problems }, 'rule reload: symbol table refused, keeping the previous one');
    });
    engine.onClose(async () => rules.unwatch());
  }
  return engine;
}
