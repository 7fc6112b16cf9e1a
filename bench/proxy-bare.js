#!/usr/bin/env node
// The bare SMTP proxy (accept-all engine: no checks) for bench/proxy-throughput.sh.
// Usage: node bench/proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT
//        PIPE=1 node bench/proxy-bare.js …  a plain TCP pipe instead (no SMTP at all): the floor of
//        any Node relay that, like the proxy, makes one downstream round trip per client round trip.
//        CHUNKING=0 node bench/proxy-bare.js …  downstream.chunking: false (DATA even when the
//        downstream offers CHUNKING; bench/proxy-postfix.sh compares both against a real Postfix).
// Built code only (dist/): run `npm run build` first.
import { createSmtpProxy } from '../dist/frontends/smtp/smtp-proxy.js';
import { createAcceptAllEngine } from '../dist/core/accept-all.js';
import { configSchema } from '../dist/config/schema.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { silentLogger } from '../dist/log.js';

import cluster from 'node:cluster';
import net from 'node:net';

const [listenPort, downstreamPort] = process.argv.slice(2).map(Number);
// WORKERS=N (default 1): N processes share the listener (node:cluster, as `workers: N` does).
const workers = Number(process.env.WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => ++listening === workers && console.log('ready'));
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    cluster.on('exit', () => Object.keys(cluster.workers).length === 0 && process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
if (!listenPort || !downstreamPort) {
  console.error('usage: proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT');
  process.exit(2);
}
if (process.env.PIPE === '1') startPipe();
else if (workers <= 1 || cluster.isWorker) await startProxy();

function startPipe() {
  net
    .createServer((c) => {
      const d = net.connect(downstreamPort, '127.0.0.1');
      c.setNoDelay(true);
      d.setNoDelay(true);
      c.pipe(d);
      d.pipe(c);
      c.on('error', () => d.destroy());
      d.on('error', () => c.destroy());
    })
    .listen(listenPort, '127.0.0.1', () => console.log('ready'));
  process.on('SIGTERM', () => process.exit(0));
}

async function startProxy() {
const config = configSchema.parse({
  listen: [`127.0.0.1:${listenPort}`],
  hostname: 'bench.spamgate.test',
  downstream: { host: '127.0.0.1', port: downstreamPort, chunking: process.env.CHUNKING !== '0' },
  limits: { maxClientsPerIp: 1000 },
});
const proxy = createSmtpProxy({ config, baseDir: process.cwd(), engine: createAcceptAllEngine(), log: silentLogger, metrics: createMetrics({ collectDefault: process.env.DEFAULT_METRICS === '1' }) });
await proxy.listen();
if (!cluster.isWorker) console.log('ready');
const stop = () => proxy.close(0).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
}
