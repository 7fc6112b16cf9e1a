/**
 * `spamgate reputation get|set|clear KIND KEY` — inspect or fix a reputation entry, e.g. clear a
 * false listing. KIND: ip | net | helo | domain | dkim. For `net`, KEY may be any address of the
 * network or the network itself (`192.0.2.0/24`, `2001:db8::/64`).
 */
import type { Command } from 'commander';
import type { reputationOptions as ReputationOptionsFn } from '../reputation/checks.js';
import { judge } from '../reputation/math.js';
import { networkOf, normaliseIp } from '../store/ipnet.js';
import { REPUTATION_KINDS, type ReputationKey, type ReputationKind } from '../store/stores-api.js';
import type { withAdminStores as WithAdminStores } from '../store/cli-stores.js';

// Stores (ioredis) and the reputation checks load only when a subcommand runs, so `spamgate`'s
// other commands (and serve's cluster primary) do not carry them.
const withAdminStores: typeof WithAdminStores = async (...args) => (await import('../store/cli-stores.js')).withAdminStores(...args);
const loadReputationOptions = async (): Promise<typeof ReputationOptionsFn> => (await import('../reputation/checks.js')).reputationOptions;

export function reputationKey(kind: string, key: string): ReputationKey {
  if (!REPUTATION_KINDS.includes(kind as ReputationKind)) throw new Error(`unknown KIND "${kind}" (one of ${REPUTATION_KINDS.join(', ')})`);
  const k = kind as ReputationKind;
  const v = key.trim();
  if (k === 'ip') {
    const ip = normaliseIp(v);
    if (!networkOf(ip)) throw new Error(`"${key}" is not an IP address`);
    return { kind: k, value: ip };
  }
  if (k === 'net') {
    const net = networkOf(v.split('/')[0]!);
    if (!net) throw new Error(`"${key}" is not an IP address or network`);
    return { kind: k, value: net };
  }
  if (!v) throw new Error('KEY is empty');
  return { kind: k, value: v.toLowerCase().replace(/\.$/, '') };
}

export function registerReputation(program: Command): void {
  const cmd = program.command('reputation').description('inspect or change reputation entries in Redis (KIND: ip|net|helo|domain|dkim)');
  const configOpt = ['-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)'] as const;

  cmd
    .command('get <kind> <key>')
    .description('show the decayed counters and what the check makes of them')
    .option(...configOpt)
    .option('--json', 'print as JSON')
    .action(async (kind: string, key: string, o: { config?: string; json?: boolean }) => {
      const rk = reputationKey(kind, key);
      const reputationOptions = await loadReputationOptions();
      await withAdminStores(o.config, async (stores, config) => {
        const opts = reputationOptions(config.checks.reputation);
        const [s] = await stores.reputation.get([rk], Date.now(), opts);
        const j = judge(s!, opts);
        const out = { kind: rk.kind, key: rk.value, ...s!, updated: s!.updated ? new Date(s!.updated).toISOString() : null, ...j };
        if (o.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        else
          process.stdout.write(
            `${rk.kind} ${rk.value}: spam=${s!.spam.toFixed(2)} ham=${s!.ham.toFixed(2)} total=${s!.total.toFixed(2)} ` +
              `avgScore=${s!.total ? (s!.scoreSum / s!.total).toFixed(2) : '-'} updated=${out.updated ?? 'never'} → ${j.verdict}` +
              (j.verdict === 'neutral' ? '' : ` (weight ${j.weight})`) +
              '\n',
          );
      });
    });

  cmd
    .command('set <kind> <key>')
    .description('overwrite the counters (as of now), e.g. to mark a network bad or a partner good')
    .option(...configOpt)
    .requiredOption('--spam <n>', 'decayed spam count', Number)
    .requiredOption('--ham <n>', 'decayed ham count', Number)
    .option('--total <n>', 'decayed transaction count (default spam + ham)', Number)
    .action(async (kind: string, key: string, o: { config?: string; spam: number; ham: number; total?: number }) => {
      const rk = reputationKey(kind, key);
      for (const [n, v] of [['spam', o.spam], ['ham', o.ham], ['total', o.total ?? 0]] as const) {
        if (!Number.isFinite(v) || v < 0) throw new Error(`--${n} must be a number ≥ 0`);
      }
      const reputationOptions = await loadReputationOptions();
      await withAdminStores(o.config, async (stores, config) => {
        const total = o.total ?? o.spam + o.ham;
        await stores.reputation.set(rk, { spam: o.spam, ham: o.ham, total, scoreSum: 0, updated: Date.now() }, reputationOptions(config.checks.reputation));
        process.stdout.write(`${rk.kind} ${rk.value}: set spam=${o.spam} ham=${o.ham} total=${total}\n`);
      });
    });

  cmd
    .command('clear <kind> <key>')
    .description('delete the entry (a new sender is neutral again)')
    .option(...configOpt)
    .action(async (kind: string, key: string, o: { config?: string }) => {
      const rk = reputationKey(kind, key);
      await withAdminStores(o.config, async (stores) => {
        await stores.reputation.clear(rk);
        process.stdout.write(`${rk.kind} ${rk.value}: cleared\n`);
      });
    });
}
