/**
 * `spamgate history [--limit N] [--json] [--ip …] [--session …] [--address …]` — the latest
 * verdicts, newest first: "why was this message rejected?" days later.
 */
import type { Command } from 'commander';
import { formatHistoryLine, queryHistory } from '../history/query.js';
import type { withAdminStores as WithAdminStores } from '../store/cli-stores.js';

// The stores (ioredis) load only when the command runs.
const withAdminStores: typeof WithAdminStores = async (...args) => (await import('../store/cli-stores.js')).withAdminStores(...args);

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('show recent verdicts from the shared history (newest first)')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)')
    .option('-n, --limit <n>', 'how many entries', (v) => Number(v), 20)
    .option('--json', 'print JSON (one array)')
    .option('--ip <text>', 'only entries whose client IP contains this')
    .option('--session <id>', 'only entries whose session id contains this')
    .option('--address <text>', 'only entries whose sender or a recipient contains this')
    .action(async (o: { config?: string; limit: number; json?: boolean; ip?: string; session?: string; address?: string }) => {
      if (!Number.isInteger(o.limit) || o.limit < 1) throw new Error('--limit must be a positive integer');
      await withAdminStores(o.config, async (stores) => {
        const rows = await queryHistory(stores.history, {
          limit: o.limit,
          ...(o.ip ? { ip: o.ip } : {}),
          ...(o.session ? { session: o.session } : {}),
          ...(o.address ? { address: o.address } : {}),
        });
        if (o.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else for (const e of rows) process.stdout.write(formatHistoryLine(e) + '\n');
      });
    });
}
