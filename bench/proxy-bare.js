#!/usr/bin/env node
// The bare SMTP proxy (accept-all engine: no checks) for bench/proxy-throughput.sh.
// Usage: node bench/proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT
//        PIPE=1 node bench/proxy-bare.js …  a plain TCP pipe instead (no SMTP at all): the floor of
//        any Node relay that, like the proxy, makes one downstream round trip per client round trip.
//        CHUNKING=0 node bench/proxy-bare.js …  downstream.chunking: false (DATA even when the
//        downstream offers CHUNKING; bench/proxy-postfix.sh compares both against a real Postfix).
//        LISTENER=1 node bench/proxy-bare.js LISTEN_PORT  the listener alone: smtp-server with the
//        proxy's own options, draining each message and answering 250 itself — no downstream, no
//        relaying. Every proxy built on smtp-server does at least this much per message, so its
//        rate is a ceiling for the proxy's (bench/proxy-throughput.sh prints it as a row).
//        LISTENER=1 AUTH_DNS=HOST:PORT …  the listener plus mailauth's authenticate() (SPF, DKIM,
//        DMARC, ARC) on each message and nothing else, DNS answers from HOST:PORT memoized for
//        good: the least any filter that verifies sender authentication with mailauth does per
//        message — a ceiling for the full stack's rate (bench/throughput-full.sh prints it).
// Built code only (dist/): run `npm run build` first.
import { createSmtpProxy } from '../dist/frontends/smtp/smtp-proxy.js';
import { createAcceptAllEngine } from '../dist/core/accept-all.js';
import { configSchema } from '../dist/config/schema.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { silentLogger } from '../dist/log.js';
import { limitOptions, protocolOptions } from '../dist/frontends/smtp/inbound-server.js';
import { SMTPServer } from 'smtp-server';
import { authenticate } from 'mailauth';
import { Resolver } from 'node:dns/promises';

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
const listenerOnly = process.env.LISTENER === '1';
if (!listenPort || (!downstreamPort && !listenerOnly)) {
  console.error('usage: proxy-bare.js LISTEN_PORT DOWNSTREAM_PORT  |  LISTENER=1 proxy-bare.js LISTEN_PORT');
  process.exit(2);
}
if (listenerOnly) {
  if (workers <= 1 || cluster.isWorker) startListener();
} else if (process.env.PIPE === '1') startPipe();
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

function startListener() {
  const auth = process.env.AUTH_DNS ? memoizedResolver(process.env.AUTH_DNS) : undefined;
  const config = configSchema.parse({ listen: [`127.0.0.1:${listenPort}`], hostname: 'bench.spamgate.test', limits: { maxClientsPerIp: 1000 } });
  // The options src/frontends/smtp/inbound-server.ts gives smtp-server (no TLS key here, as in the bench's proxy).
  const server = new SMTPServer({
    ...limitOptions(config),
    ...protocolOptions(undefined),
    onData(stream, session, cb) {
      // Drained as the proxy drains it; the chunks are kept only when mailauth needs the message.
      let size = 0;
      const chunks = [];
      stream.on('data', (c) => {
        size += c.length;
        if (auth) chunks.push(c);
      });
      stream.once('end', () => {
        if (!auth) return cb(null, `2.0.0 Ok ${size}`);
        authenticate(Buffer.concat(chunks), {
          ip: session.remoteAddress,
          helo: session.hostNameAppearsAs,
          sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          mta: 'bench.spamgate.test',
          resolver: auth,
        }).then(
          (r) => cb(null, `2.0.0 Ok ${size} dmarc=${r.dmarc?.status?.result}`),
          (e) => cb(Object.assign(new Error(`4.3.0 ${e.message}`), { responseCode: 451 })),
        );
      });
    },
  });
  server.on('error', () => undefined);
  server.listen(listenPort, '127.0.0.1', () => cluster.isWorker || console.log('ready'));
  process.on('SIGTERM', () => process.exit(0));
}

/** dns.promises-style resolve(name, type) against one server, each answer kept for good. */
function memoizedResolver(server) {
  const r = new Resolver();
  r.setServers([server]);
  const memo = new Map();
  return (name, type) => {
    const key = `${type} ${name}`;
    let p = memo.get(key);
    if (!p) memo.set(key, (p = r.resolve(name, type)));
    return p;
  };
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
