/**
 * Runs one check the way the pipeline does (its own CheckContext, facts shared across stages),
 * against real services: our DNS resolver pointed at the loopback test DNS server.
 */
import { configSchema, type Config } from '../../src/config/schema.js';
import { createDnsResolver } from '../../src/dns/index.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log.js';
import type { CheckFactory, CheckServices } from '../../src/core/services.js';
import type { Check, CheckContext, FactKey, Facts, SessionView, Stage } from '../../src/core/types.js';
import type { DnsResolver } from '../../src/dns/resolver-api.js';
import type { Stores } from '../../src/store/stores-api.js';

export function testConfig(dnsAddress: string, over: Record<string, unknown> = {}): Config {
  const { dns, ...rest } = over as { dns?: Record<string, unknown> };
  return configSchema.parse({ hostname: 'mx.spamgate.test', dns: { servers: [dnsAddress], timeoutMs: 300, ...dns }, ...rest });
}

export function testServices(config: Config, metrics: Metrics = createMetrics(), dns?: DnsResolver): CheckServices {
  return {
    config,
    baseDir: process.cwd(),
    log: silentLogger,
    metrics,
    dns: dns ?? createDnsResolver(config.dns, { metrics, log: silentLogger }),
    stores: {} as Stores,
  };
}

export function makeChecks(factory: CheckFactory, services: CheckServices): Check[] {
  const made = factory(services);
  return made === undefined ? [] : Array.isArray(made) ? [...(made as readonly Check[])] : [made as Check];
}

export class MapFacts implements Facts {
  readonly map = new Map<string, unknown>();
  get<T>(key: FactKey<T>): T | undefined {
    return this.map.get(key.name) as T | undefined;
  }
  set<T>(key: FactKey<T>, value: T): void {
    this.map.set(key.name, value);
  }
}

export interface Emitted {
  readonly name: string;
  readonly options: readonly string[];
}

export interface SessionInput {
  readonly id?: string;
  readonly ip: string;
  readonly helo?: string;
  readonly mailFrom?: string;
  readonly rcptTo?: readonly string[];
  readonly message?: Buffer;
}

export function sessionView(s: SessionInput): SessionView {
  return {
    id: s.id ?? 'test-session',
    client: { ip: s.ip, port: 40000, tls: false },
    helo: s.helo,
    envelope: { mailFrom: s.mailFrom ?? '', rcptTo: s.rcptTo ?? ['rcpt@example.net'] },
    message: s.message,
    frontend: 'scan',
  };
}

/** Runs the check; throws if it emits a symbol it did not declare. */
export async function runCheck(check: Check, session: SessionView, facts: Facts = new MapFacts(), stage: Stage = check.stage): Promise<Emitted[]> {
  const emitted: Emitted[] = [];
  const declared = new Set(check.symbols.map((s) => s.name));
  const ac = new AbortController();
  const ctx: CheckContext = {
    stage,
    session,
    facts,
    signal: ac.signal,
    log: silentLogger,
    emit(name, options = []) {
      if (!declared.has(name)) throw new Error(`${check.name} emitted undeclared ${name}`);
      emitted.push({ name, options });
    },
    force() {
      throw new Error('DNS checks never force');
    },
  };
  const timer = setTimeout(() => ac.abort(), check.timeoutMs);
  try {
    await check.run(ctx);
  } finally {
    clearTimeout(timer);
  }
  return emitted;
}

export const names = (e: readonly Emitted[]) => e.map((x) => x.name).sort();
