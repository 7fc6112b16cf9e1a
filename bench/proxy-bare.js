#!/usr/bin/env node
// The bare SMTP proxy (accept-all engine: no checks) for bench/proxy-throughput.sh.
// Usage: node bench/proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT
// Built code only (dist/): run `npm run build` first.
import { createSmtpProxy } from '../dist/frontends/smtp/smtp-proxy.js';
import { createAcceptAllEngine } from '../dist/core/accept-all.js';
import { configSchema } from '../dist/config/schema.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { silentLogger } from '../dist/log.js';

const [listenPort, downstreamPort] = process.argv.slice(2).map(Number);
if (!listenPort || !downstreamPort) {
  console.error('usage: proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT');
  process.exit(2);
}
const config = configSchema.parse({
  listen: [`127.0.0.1:${listenPort}`],
  hostname: 'bench.spamgate.test',
  downstream: { host: '127.0.0.1', port: downstreamPort },
  limits: { maxClientsPerIp: 1000 },
});
const proxy = createSmtpProxy({ config, baseDir: process.cwd(), engine: createAcceptAllEngine(), log: silentLogger, metrics: createMetrics() });
await proxy.listen();
console.log('ready');
const stop = () => proxy.close(0).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
