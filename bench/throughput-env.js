#!/usr/bin/env node
// The environment of bench/throughput-full.sh, on loopback only:
// - a DNS server (test/helpers/dns-server.ts, compiled by the .sh) serving the sender domain's
//   SPF, DKIM key, DMARC policy, MX, the client's PTR/A, and a local DNS block list + URI list;
// - DKIM-signed messages of the requested sizes for smtp-source -F;
// - the spamgate config: config/spamgate.yaml as shipped, plus only what a bench on one box needs
//   (ports, local DNS/Redis, per-IP limits for 200 sessions from 127.0.0.1, local lists).
// Usage: node bench/throughput-env.js OUT_DIR DNS_HELPER_JS SINK_PORT PROXY_PORT ADMIN_PORT REDIS_PORT WORKERS SIZE...
// Prints "ready" once the DNS server answers; keeps serving until SIGTERM.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [out, helper, sinkPort, proxyPort, adminPort, redisPort, workers, ...sizes] = process.argv.slice(2);
if (!sizes.length) {
  console.error('usage: throughput-env.js OUT_DIR DNS_HELPER_JS SINK_PORT PROXY_PORT ADMIN_PORT REDIS_PORT WORKERS SIZE...');
  process.exit(2);
}
const { startDnsServer, rr } = await import(path.resolve(helper));

const DOMAIN = 'bench-sender.test';
const HELO = `mail.${DOMAIN}`;
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

const dns = await startDnsServer({
  records: {
    [DOMAIN]: [rr.txt('v=spf1 ip4:127.0.0.1 -all'), rr.mx(10, HELO), rr.a('127.0.0.1')],
    [HELO]: [rr.a('127.0.0.1')],
    '1.0.0.127.in-addr.arpa': [rr.ptr(HELO)],
    [`bench._domainkey.${DOMAIN}`]: [rr.txt(`v=DKIM1; k=rsa; p=${p}`)],
    [`_dmarc.${DOMAIN}`]: [rr.txt('v=DMARC1; p=reject; adkim=r; aspf=r')],
    'bench-rcpt.test': [rr.mx(10, 'mx.bench-rcpt.test')],
    'mx.bench-rcpt.test': [rr.a('127.0.0.1')],
    // RFC 5782 §5 test points of the local lists, so their health probes pass.
    '2.0.0.127.bl.bench.test': [rr.a('127.0.0.2')],
    'test.uribl.bench.test': [rr.a('127.0.0.2')],
    '2.0.0.127.uribl.bench.test': [rr.a('127.0.0.2')],
  },
  defaultTtl: 3600,
});

// Messages: plain text with a few links (so URI extraction and the URI list run), LF line ends
// (smtp-source -F sends each line with CRLF), signed over the CRLF form.
const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(' ');
for (const size of sizes.map(Number)) {
  const head = [
    `From: Bench Sender <news@${DOMAIN}>`,
    'To: <rcpt@bench-rcpt.test>',
    `Subject: Throughput bench ${size} bytes`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${size}.${Date.now()}@${DOMAIN}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  const body = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    let line = '';
    while (line.length < 70) line += words[(i * 7 + line.length) % words.length] + ' ';
    if (i % 20 === 0) line = `See https://www.example${i % 5}.org/page/${i} for details`;
    body.push(line.trimEnd());
    n += line.length + 2;
  }
  const crlf = head.join('\r\n') + '\r\n\r\n' + body.join('\r\n') + '\r\n';
  const signed = await dkimSign(crlf, {
    signTime: new Date(), // one clock reading (mailauth 4.13.3 otherwise reads it twice around the signature)
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: DOMAIN, selector: 'bench', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }],
  });
  if (signed.errors.length) throw new Error(`DKIM signing failed: ${JSON.stringify(signed.errors)}`);
  fs.writeFileSync(path.join(out, `msg-${size}.eml`), (signed.signatures + crlf).replace(/\r\n/g, '\n'));
  // The same message with CRLF, for the latency probe (raw socket).
  fs.writeFileSync(path.join(out, `msg-${size}.crlf`), signed.signatures + crlf);
}

// The config: the shipped file, with the bench's ports and local services.
const shipped = YAML.parse(fs.readFileSync(path.join(ROOT, 'config/spamgate.yaml'), 'utf8'));
const list = (name, zone, symbol) => ({ name, zone, returnCodes: { '127.0.0.2': { symbol, score: 5 } } });
const cfg = {
  ...shipped,
  listen: [`127.0.0.1:${proxyPort}`],
  hostname: 'mx.bench-rcpt.test',
  workers: workers === 'auto' ? 'auto' : Number(workers),
  downstream: { ...shipped.downstream, host: '127.0.0.1', port: Number(sinkPort) },
  // 200 sessions come from one address here; on an MX they come from many.
  limits: { ...shipped.limits, maxClientsPerIp: 1000 },
  dns: { ...shipped.dns, servers: [dns.address] },
  redis: { ...shipped.redis, url: `redis://127.0.0.1:${redisPort}` },
  admin: { listen: `127.0.0.1:${adminPort}` },
  rules: { ...shipped.rules, paths: [path.join(ROOT, 'rules')] },
  checks: {
    ...(shipped.checks ?? {}),
    // Every check stays on; loopback is skipped by default, so make it count like a real client
    // (reputation and rate limits then do their Redis work), with limits no bench reaches.
    reputation: { skipNetworks: [] },
    ratelimit: {
      skipNetworks: [],
      ip: { perMinute: 1e9, burst: 1e9 },
      net: { perMinute: 1e9, burst: 1e9 },
      sender: { perMinute: 1e9, burst: 1e9 },
      rcpt: { perMinute: 1e9, burst: 1e9 },
      rcpt_domain: { perMinute: 1e9, burst: 1e9 },
    },
    dnsbl: { lists: [list('BENCHBL', 'bl.bench.test', 'RBL_BENCHBL')] },
    uribl: { lists: [{ ...list('BENCHURI', 'uribl.bench.test', 'URIBL_BENCHURI'), ipv4: false, ipv6: false }] },
  },
};
fs.writeFileSync(path.join(out, 'spamgate.yaml'), YAML.stringify(cfg));
console.log(`ready dns=${dns.address}`);
const stop = () => dns.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
