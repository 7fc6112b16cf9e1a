#!/usr/bin/env node
// Rules check CPU cost over the training corpus (parse + evaluate, the `rules` check's work).
//
//   npm run build && node bench/rules-eval.js [--corpus DIR] [--rules DIR] [--sa DIR] [--rounds N]
//
// Prints messages/s and CPU ms per message for: parse only, then parse + evaluate (fresh parse per
// round, memo defeated by copying the Buffer), plus per-rule hit counts on ham vs spam so a rule
// with false positives shows up. Target (issue 3): <= 2 ms CPU per message with the shipped rules.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const { parseMessage } = await import(path.join(dist, 'message', 'index.js'));
const { loadRuleSet } = await import(path.join(dist, 'rules', 'loader.js'));
const { evaluateRules } = await import(path.join(dist, 'rules', 'evaluate.js'));

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const corpus = arg('--corpus', path.resolve(here, '../../shared/corpus/spamassassin-train'));
const rulesDir = arg('--rules', path.join(here, '..', 'rules'));
const sa = arg('--sa', undefined);
const rounds = Number(arg('--rounds', '3'));

const msgs = [];
for (const d of fs.readdirSync(corpus).sort()) {
  const p = path.join(corpus, d);
  if (!fs.statSync(p).isDirectory()) continue;
  const label = d.includes('spam') ? 'spam' : 'ham';
  for (const f of fs.readdirSync(p).sort()) msgs.push({ label, raw: fs.readFileSync(path.join(p, f)) });
}
const loaded = loadRuleSet({ paths: [rulesDir], spamassassin: sa ? [sa] : [], baseDir: process.cwd() });
if (!loaded.ok) {
  console.error(loaded.problems);
  process.exit(1);
}
const set = loaded.ruleSet;
const env = { mailFrom: 'sender@example.org', rcptTo: ['user@example.net'] };
console.log(`corpus: ${msgs.length} messages from ${corpus}`);
console.log(`rules: ${set.rules.length} compiled (${set.stats.rules.loaded} yaml, ${set.stats.spamassassin.loaded} spamassassin, ${set.stats.spamassassin.skipped} SA skipped)`);

const cpuMs = (t0) => {
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / 1000;
};
const { simpleParser } = await import('mailparser');
const MP_OPTS = { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true, keepCidLinks: true };
const run = async (evaluate) => {
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (const m of msgs) {
    const pm = await parseMessage(Buffer.from(m.raw)); // a fresh Buffer defeats the per-Buffer memo
    if (evaluate) evaluateRules(set, pm, env);
  }
  return { cpu: cpuMs(t0), wall: Number(process.hrtime.bigint() - w0) / 1e6 };
};
// Reference measured in the same run: mailparser alone (the MIME parsing every content filter needs).
const reference = async () => {
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (const m of msgs) await simpleParser(m.raw, MP_OPTS);
  return { cpu: cpuMs(t0), wall: Number(process.hrtime.bigint() - w0) / 1e6 };
};
await run(true); // warm-up (JIT)
await reference();
const results = {};
for (const [label, fn] of [['mailparser', reference], ['parse only', () => run(false)], ['parse + rules', () => run(true)]]) {
  let best;
  for (let i = 0; i < rounds; i++) {
    const r = await fn();
    if (!best || r.cpu < best.cpu) best = r;
  }
  results[label] = best;
  console.log(`${label.padEnd(14)} ${(msgs.length / (best.wall / 1000)).toFixed(0).padStart(6)} msg/s  ${(best.cpu / msgs.length).toFixed(3)} ms CPU/msg (best of ${rounds})`);
}
const perMsg = results['parse + rules'].cpu / msgs.length;
console.log(`ratio parse+rules / mailparser: ${(results['parse + rules'].cpu / results['mailparser'].cpu).toFixed(2)}x`);
console.log(`target <= 2 ms CPU/msg (issue 3): ${perMsg <= 2 ? 'met' : 'NOT met'} (${perMsg.toFixed(3)} ms)`);

const counts = new Map();
const totals = { ham: 0, spam: 0 };
for (const m of msgs) {
  totals[m.label]++;
  const pm = await parseMessage(m.raw);
  for (const h of evaluateRules(set, pm, env).hits) {
    const c = counts.get(h.rule.id) ?? { ham: 0, spam: 0 };
    c[m.label]++;
    counts.set(h.rule.id, c);
  }
}
console.log(`\nhits per rule (ham of ${totals.ham} / spam of ${totals.spam}):`);
const rows = [...counts].sort((a, b) => b[1].spam + b[1].ham - (a[1].spam + a[1].ham));
for (const [id, c] of rows.slice(0, 60)) console.log(`  ${id.padEnd(32)} ham ${String(c.ham).padStart(5)}  spam ${String(c.spam).padStart(5)}`);
