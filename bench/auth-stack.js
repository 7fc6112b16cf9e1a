#!/usr/bin/env node
// Full auth stack (SPF + DKIM + ARC + DMARC + Authentication-Results, i.e. the `spf` and `auth`
// checks) on DKIM-signed messages, against a real DNS server on loopback (a child process, so its
// CPU is not counted), with the DNS cache warm and cold. Reference measured in the same run:
// mailauth's authenticate() alone with an in-memory resolver (no DNS, no cache, no our code; it
// does not use our DKIM key cache, but does get the process-wide ipaddr.js parseCIDR fast path,
// src/checks/auth/ipaddr-cidr-fast-path.ts, which changes no result).
//
//   npm run build && node bench/auth-stack.js [--messages N] [--key rsa|ed25519] [--concurrency C]
//     [--only reference|warm|cold]   (one scenario, e.g. under node --cpu-prof)
//     [--compare OTHER_DIST]         (warm, this build against another one — e.g. a copy of dist/
//                                     from before a change, kept inside the repository so it finds
//                                     node_modules — in alternating batches of 50 in this process,
//                                     so a busy machine slows both alike)
//   (SPAMGATE_DIST=/path/to/dist to use another build)
//
// Prints messages/s (wall) and CPU ms per message (user+system of this process) per scenario, and
// the ratio of our warm-cache figure to the reference. Target (issue 4): >= 400 DKIM-signed
// messages/s per core with a warm cache. Sequential runs measure one core.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};

// ---- child: a loopback DNS server serving the zone given on stdin (TXT strings split at 255) ----
if (process.argv[2] === '--dns-server') {
  const zone = JSON.parse(process.argv[3]);
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions[0];
    const recs = (zone[question.name.toLowerCase()] ?? []).filter((r) => r.type === question.type);
    const answers = recs.map((r) =>
      r.type === 'TXT'
        ? { type: 'TXT', name: question.name, ttl: 300, data: r.data.match(/.{1,255}/gs) }
        : { type: r.type, name: question.name, ttl: 300, data: r.data },
    );
    const exists = zone[question.name.toLowerCase()] !== undefined;
    const soa = { type: 'SOA', name: 'test', ttl: 60, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } };
    const out = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (exists || answers.length ? 0 : 3),
      questions: q.questions,
      answers,
      authorities: answers.length ? [] : [soa],
    });
    sock.send(out, rinfo.port, rinfo.address);
  });
  sock.bind(0, '127.0.0.1', () => process.send(sock.address().port));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function loadBuild(dist) {
  return {
    ...(await import(path.join(dist, 'config', 'schema.js'))),
    ...(await import(path.join(dist, 'dns', 'index.js'))),
    ...(await import(path.join(dist, 'metrics', 'metrics.js'))),
    ...(await import(path.join(dist, 'log.js'))),
    ...(await import(path.join(dist, 'checks', 'mail', 'spf.js'))),
    ...(await import(path.join(dist, 'checks', 'data', 'auth.js'))),
  };
}

async function main() {
  const dist = path.resolve(process.env.SPAMGATE_DIST ?? path.join(here, '..', 'dist'));
  const build = await loadBuild(dist);
  const { silentLogger } = build;
  const compareDist = arg('--compare', '');
  const other = compareDist ? await loadBuild(path.resolve(compareDist)) : undefined;
  // After our checks: they install the DKIM key cache before mailauth's verifiers first load
  // (src/checks/auth/mailauth-key-cache.ts). The reference below does not use that cache.
  const { authenticate, dkimSign } = await import('mailauth');
  const keyCache = await import(path.join(dist, 'checks', 'auth', 'mailauth-key-cache.js')).catch(() => undefined);

  const N = Number(arg('--messages', '600'));
  const kind = arg('--key', 'rsa');
  const concurrency = Number(arg('--concurrency', '1'));

  const keys = kind === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ed25519');
  const der = keys.publicKey.export({ type: 'spki', format: 'der' });
  const p = (kind === 'rsa' ? der : der.subarray(12)).toString('base64');
  const zone = {
    'example.com': [{ type: 'TXT', data: 'v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all' }],
    '_spf.example.com': [{ type: 'TXT', data: 'v=spf1 ip4:198.51.100.0/24 -all' }],
    'sel._domainkey.example.com': [{ type: 'TXT', data: `v=DKIM1; k=${kind}; p=${p}` }],
    '_dmarc.example.com': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
  };
  const memZone = new Map(Object.entries(zone).map(([n, rs]) => [n, rs.map((r) => [r.data])]));
  const memResolver = async (name, type) => {
    const r = type === 'TXT' ? memZone.get(name.toLowerCase()) : undefined;
    if (!r) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return r;
  };

  process.stderr.write(`signing ${N} messages (${kind})…\n`);
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const messages = [];
  for (let i = 0; i < N; i++) {
    const body = `Hello Bob,\r\n\r\nmessage number ${i}, with a few lines of text to hash.\r\n${'Lorem ipsum dolor sit amet. '.repeat(20)}\r\n`;
    const msg = Buffer.from(
      `From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: figures ${i}\r\nDate: Sun, 29 Nov 2026 01:00:00 +0000\r\nMessage-ID: <bench-${i}@example.com>\r\n\r\n${body}`,
    );
    const s = await dkimSign(msg, {
      canonicalization: 'relaxed/relaxed',
      // Without signTime mailauth 4.13.3 computes t= twice (Math.round(Date.now()/1000)) around the
      // RSA signing; crossing a half second between them signs a t= other than the one written.
      signTime: new Date(),
      signatureData: [{ signingDomain: 'example.com', selector: 'sel', privateKey, algorithm: kind === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256' }],
    });
    messages.push(Buffer.concat([Buffer.from(s.signatures), msg]));
  }

  const child = fork(fileURLToPath(import.meta.url), ['--dns-server', JSON.stringify(zone)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((res) => child.once('message', res));

  function makeStack(b) {
    const metrics = b.createMetrics();
    const config = b.configSchema.parse({ hostname: 'mx.bench.test', dns: { servers: [`127.0.0.1:${port}`], timeoutMs: 2000, maxQueriesPerMessage: 1000 } });
    const dns = b.createDnsResolver(config.dns, { metrics, log: silentLogger });
    const services = { config, baseDir: process.cwd(), log: silentLogger, metrics, dns, stores: {} };
    const run = stackRunner(b.spfCheck(services), b.authCheck(services));
    run.dns = dns;
    return run;
  }
  const stackRunner = (spf, auth) => async function ourStack(msg, i) {
    const facts = new Map();
    const emitted = [];
    const session = {
      id: `bench-${i}`,
      client: { ip: '198.51.100.20', port: 1, tls: false },
      helo: 'mail.example.com',
      envelope: { mailFrom: 'alice@example.com', rcptTo: ['bob@example.net'] },
      message: msg,
      frontend: 'scan',
    };
    const ctx = (stage) => ({
      stage,
      session,
      facts: { get: (k) => facts.get(k.name), set: (k, v) => facts.set(k.name, v) },
      signal: new AbortController().signal,
      log: silentLogger,
      emit: (name) => emitted.push(name),
      force: () => undefined,
    });
    await spf.run(ctx('mail'));
    await auth.run(ctx('data'));
    return emitted;
  };

  const ourStack = makeStack(build);
  const dns = ourStack.dns;
  const otherStack = other && makeStack(other);

  async function reference(msg) {
    const r = await authenticate(msg, { ip: '198.51.100.20', helo: 'mail.example.com', sender: 'alice@example.com', mta: 'mx.bench.test', resolver: memResolver, disableBimi: true });
    return [r.spf.status.result, r.dkim.results[0].status.result, r.dmarc && r.dmarc.status.result];
  }

  async function measure(name, fn, before) {
    // warm-up (JIT), not timed
    for (let i = 0; i < Math.min(50, N); i++) {
      if (before) before();
      await fn(messages[i], i);
    }
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        if (before) before();
        await fn(messages[i], i);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 / N;
    const row = { name, msgsPerSec: N / wall, cpuMsPerMsg: cpuMs, perCoreMsgsPerSec: 1000 / cpuMs };
    console.log(
      `${name.padEnd(44)} ${row.msgsPerSec.toFixed(0).padStart(6)} msg/s   ${cpuMs.toFixed(3).padStart(7)} ms CPU/msg   (${row.perCoreMsgsPerSec.toFixed(0)} msg/s per core of CPU)`,
    );
    return row;
  }

  // sanity: both stacks agree the messages pass
  const ours = await ourStack(messages[0], 0);
  const ref = await reference(messages[0]);
  if (!ours.includes('R_DKIM_ALLOW') || !ours.includes('R_SPF_ALLOW') || !ours.includes('DMARC_POLICY_ALLOW') || ref.join() !== 'pass,pass,pass') {
    console.error('sanity check failed', ours, ref);
    process.exit(1);
  }

  console.log(`auth stack, ${N} DKIM-signed messages (${kind === 'rsa' ? 'RSA-2048' : 'ed25519'}), concurrency ${concurrency}, node ${process.version}`);
  const only = arg('--only', compareDist ? 'none' : '');
  const r0 = !only || only === 'reference' ? await measure('reference: mailauth authenticate(), in-memory', reference) : undefined;
  const r1 = !only || only === 'warm' ? await measure('spamgate spf+auth, DNS cache warm', ourStack) : undefined;
  const r2 = !only || only === 'cold' ? await measure('spamgate spf+auth, DNS cache cold (loopback)', ourStack, () => dns.clearCache()) : undefined;
  if (r0 && r1) console.log(`ratio warm/reference: ${(r1.msgsPerSec / r0.msgsPerSec).toFixed(2)} (msg/s), ${(r0.cpuMsPerMsg / r1.cpuMsPerMsg).toFixed(2)} (CPU)`);
  if (r1 && r2) console.log(`ratio cold/warm:      ${(r2.msgsPerSec / r1.msgsPerSec).toFixed(2)} (msg/s)`);
  if (r1) console.log(`target >= 400 msg/s per core warm: ${r1.perCoreMsgsPerSec >= 400 ? 'met' : 'NOT met'} (${r1.perCoreMsgsPerSec.toFixed(0)})`);
  if (otherStack) {
    const sane = await otherStack(messages[0], 0);
    if (!sane.includes('R_DKIM_ALLOW')) throw new Error(`sanity check failed for ${compareDist}: ${sane}`);
    const B = 50;
    const cpu = [0, 0];
    const stacks = [ourStack, otherStack];
    for (let i = 0; i < Math.min(100, N); i++) for (const st of stacks) await st(messages[i], i); // warm-up
    for (let done = 0; done < N; done += B) {
      // A B, then B A: neither build always runs right after the other
      for (const k of (done / B) % 2 ? [1, 0] : [0, 1]) {
        const c0 = process.cpuUsage();
        for (let i = done; i < Math.min(done + B, N); i++) await stacks[k](messages[i], i);
        const c = process.cpuUsage(c0);
        cpu[k] += c.user + c.system;
      }
    }
    const [a, b] = cpu.map((us) => us / 1000 / N);
    console.log(`warm, alternating batches of ${B}: this build ${a.toFixed(3)} ms CPU/msg, ${compareDist} ${b.toFixed(3)} ms CPU/msg, this/other ${(a / b).toFixed(2)}`);
  }
  const kc = keyCache?.keyCacheStats();
  console.log(kc ? `DKIM key cache: ${kc.active ? 'active' : `inactive (${kc.reason})`}, ${kc.hits} hits, ${kc.misses} misses` : 'DKIM key cache: not in this build');
  child.disconnect();
  child.kill();
}
