/**
 * `spamgate scan [--config F] [--ip IP] [--helo NAME] [--from ADDR] [--rcpt ADDR]... [--dns HOST:PORT] [--json] FILE|-`
 *
 * Runs one message through the same engine as the daemon (frontend `scan`) and prints the verdict:
 * with --json exactly one object `{"action","score","required","symbols":{NAME:{score,options}}}`
 * plus `"auth"` when SPF/DKIM/DMARC/ARC results exist; otherwise a table sorted by score.
 * Input may start with an mbox `From ` line and may use LF line endings.
 * Defaults: --ip 127.0.0.1, --helo localhost, --from the Return-Path (else From) address,
 * --rcpt the To addresses. Exit 0 whatever the verdict; 1 on a bad config, rule or input file.
 * Scan never writes shared state: embedded stores instead of Redis, no transaction observers.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadCliConfig, reportConfigError } from '../app/cli-config.js';
import type { ScanResult } from '../app/scan-message.js';
import { parseHostPort } from '../config/types.js';
import type { LoadedConfig } from '../config/loader.js';
import type { Engine } from '../core/engine.js';
import { ARC, DKIM, DMARC, SPF } from '../core/facts.js';
import { fmt2 } from '../core/tagging.js';
import { createLogger } from '../log.js';
import { createMetrics } from '../metrics/metrics.js';

interface ScanCliOptions {
  config?: string;
  ip?: string;
  helo?: string;
  from?: string;
  rcpt?: string[];
  dns?: string;
  json?: boolean;
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('run one message (file or - for stdin) through the engine and print the verdict')
    .argument('<file>', 'message file (RFC 5322, mbox "From " line and LF endings accepted), or - for stdin')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml, else built-in defaults)')
    .option('--ip <ip>', 'client IP address', '127.0.0.1')
    .option('--helo <name>', 'HELO/EHLO name', 'localhost')
    .option('--from <addr>', "envelope sender ('' for the null sender; default: Return-Path, else From)")
    .option('--rcpt <addr>', 'envelope recipient, repeatable (default: the To addresses)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--dns <host:port>', 'DNS server to use (overrides dns.servers)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: ScanCliOptions) => {
      let loaded: LoadedConfig;
      try {
        loaded = loadCliConfig(opts.config);
      } catch (e) {
        reportConfigError(e);
      }
      if (opts.dns !== undefined) {
        if (!parseHostPort(opts.dns)) throw new Error(`--dns: expected host:port, got ${JSON.stringify(opts.dns)}`);
        loaded = { ...loaded, config: { ...loaded.config, dns: { ...loaded.config.dns, servers: [opts.dns] } } };
      }
      const raw = file === '-' ? await readStdin() : fs.readFileSync(file);
      // Logs go to stderr so stdout carries only the result.
      const log = createLogger('warn', pino.destination({ fd: 2, sync: true }));
      // An offline diagnosis must not change production state: embedded stores (greylist, rate
      // limits and reputation start empty, never Redis) and no observers (no learning, no history).
      // The engine and its checks load only when a command needs them (the cluster primary and
      // the other subcommands stay small).
      const [{ buildEngine }, { normalizeMessage, scanMessage }, { createMemoryStores }] = await Promise.all([
        import('../app/build-engine.js'),
        import('../app/scan-message.js'),
        import('../store/index.js'),
      ]);
      const stores = createMemoryStores({ failMode: loaded.config.redis.failMode });
      const engine = await buildEngine(loaded, { log, metrics: createMetrics(), stores, observers: [] });
      try {
        const result = await scanMessage(engine, normalizeMessage(raw), {
          ip: opts.ip,
          helo: opts.helo,
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.rcpt ? { rcpts: opts.rcpt } : {}),
        });
        process.stdout.write(opts.json ? JSON.stringify(scanJson(result)) + '\n' : scanTable(result, engine));
      } finally {
        await engine.close();
        await stores.close();
      }
    });
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The `--json` object (shape fixed by issues 3 and 4). */
export function scanJson(r: ScanResult): Record<string, unknown> {
  const v = r.verdict;
  const out: Record<string, unknown> = {
    action: v.action,
    score: v.score,
    required: v.required,
    symbols: Object.fromEntries(v.symbols.map((s) => [s.name, { score: s.score, options: [...s.options] }])),
  };
  const auth = authJson(r.facts);
  if (auth) out.auth = auth;
  return out;
}

function authJson(facts: Record<string, unknown>): Record<string, unknown> | undefined {
  const auth: Record<string, unknown> = {};
  const spf = facts[SPF.name] as { result: string; domain: string } | undefined;
  const dkim = facts[DKIM.name] as readonly { domain: string; selector: string; result: string }[] | undefined;
  const dmarc = facts[DMARC.name] as { result: string; policy: string; domain: string } | undefined;
  const arc = facts[ARC.name] as { result: string } | undefined;
  if (spf) auth.spf = { result: spf.result, domain: spf.domain };
  if (dkim) auth.dkim = dkim.map((d) => ({ domain: d.domain, selector: d.selector, result: d.result }));
  if (dmarc) auth.dmarc = { result: dmarc.result, policy: dmarc.policy, domain: dmarc.domain };
  if (arc) auth.arc = { result: arc.result };
  return Object.keys(auth).length ? auth : undefined;
}

/** Human-readable verdict: summary lines, then the symbols by score (highest first). */
export function scanTable(r: ScanResult, engine: Engine): string {
  const v = r.verdict;
  const lines: string[] = [];
  lines.push(`action:   ${v.action}`);
  lines.push(`score:    ${fmt2(v.score)} (required ${fmt2(v.required)})`);
  if (v.forced) lines.push(`forced:   by ${v.forced.by}: ${v.forced.reason}`);
  else if (v.reason) lines.push(`reason:   ${v.reason}`);
  lines.push(`envelope: ip ${r.envelope.ip}, helo ${r.envelope.helo}, from <${r.envelope.from}>, to ${r.envelope.rcpts.map((x) => `<${x}>`).join(' ') || '(none)'}`);
  const auth = authJson(r.facts);
  if (auth) lines.push(`auth:     ${JSON.stringify(auth)}`);
  lines.push('');
  if (!v.symbols.length) lines.push('(no symbols)');
  else {
    const width = Math.max(6, ...v.symbols.map((s) => s.name.length));
    lines.push(`${'SCORE'.padStart(8)}  ${'SYMBOL'.padEnd(width)}  DESCRIPTION [OPTIONS]`);
    for (const s of v.symbols) {
      const desc = engine.registry.symbol(s.name)?.def.description ?? '';
      const opts = s.options.length ? ` [${s.options.join(', ')}]` : '';
      lines.push(`${fmt2(s.score).padStart(8)}  ${s.name.padEnd(width)}  ${desc}${opts}`);
    }
  }
  return lines.map(printable).join('\n') + '\n';
}

/** Text from the message (options, addresses) must not carry control characters (terminal escapes) to the tty. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}
