/** Build and start the SMTP proxy on 127.0.0.1:0 for integration tests. */
import { configSchema, type Config } from '../../src/config/schema.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createAcceptAllEngine } from '../../src/core/accept-all.js';
import type { FilterEngine } from '../../src/core/engine-api.js';
import { createSmtpProxy, type SmtpProxy } from '../../src/frontends/smtp/smtp-proxy.js';

export interface Harness {
  readonly port: number;
  readonly proxy: SmtpProxy;
  readonly config: Config;
  close(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export async function startProxy(downstreamPort: number, overrides: DeepPartial<Config> = {}, engine: FilterEngine = createAcceptAllEngine()): Promise<Harness> {
  const o = overrides as Record<string, Record<string, unknown> | unknown>;
  const section = (k: string) => (o[k] && typeof o[k] === 'object' && !Array.isArray(o[k]) ? (o[k] as Record<string, unknown>) : {});
  const config = configSchema.parse({
    ...o,
    listen: ['127.0.0.1:0'],
    hostname: (o.hostname as string | undefined) ?? 'mx.test.example',
    downstream: { host: '127.0.0.1', port: downstreamPort, connectTimeoutMs: 2000, commandTimeoutMs: 5000, dataTimeoutMs: 5000, ...section('downstream') },
    limits: { socketTimeoutMs: 10_000, ...section('limits') },
  });
  const proxy = createSmtpProxy({ config, baseDir: process.cwd(), engine, log: silentLogger, metrics: createMetrics() });
  const [addr] = await proxy.listen();
  return { port: addr!.port, proxy, config, close: () => proxy.close(0) };
}
