/**
 * `spamgate symbols [--config F] [--json]`: every symbol the enabled checks (and the engine) can
 * emit, with its effective score (after `scores:`), default, check, category and description —
 * what an admin needs to write `scores:` overrides and rules against stable names.
 */
import type { Command } from 'commander';
import { loadCliConfig, reportConfigError } from '../app/cli-config.js';
import type { LoadedConfig } from '../config/loader.js';
import { RegistryError } from '../core/registry.js';
import { fmt2 } from '../core/tagging.js';

export function registerSymbols(program: Command): void {
  program
    .command('symbols')
    .description('list every symbol with its score, check and description')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml, else built-in defaults)')
    .option('--json', 'print a JSON array')
    .action(async (opts: { config?: string; json?: boolean }) => {
      let loaded: LoadedConfig;
      try {
        loaded = loadCliConfig(opts.config);
      } catch (e) {
        reportConfigError(e);
      }
      const { buildOfflineRegistry } = await import('../app/build-engine.js');
      const { registry, problems, close } = buildOfflineRegistry(loaded);
      try {
        if (!registry) throw new RegistryError(problems);
        const rows = registry.symbols().map((s) => ({
          name: s.def.name,
          score: s.score,
          defaultScore: s.def.score,
          check: s.check,
          category: s.def.category ?? '',
          description: s.def.description,
        }));
        if (opts.json) {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        const w = Math.max(6, ...rows.map((r) => r.name.length));
        const cw = Math.max(5, ...rows.map((r) => r.check.length));
        const out = [`${'SYMBOL'.padEnd(w)}  ${'SCORE'.padStart(8)}  ${'CHECK'.padEnd(cw)}  DESCRIPTION`];
        for (const r of rows) {
          const score = fmt2(r.score) + (r.score !== r.defaultScore ? '*' : ' ');
          out.push(`${r.name.padEnd(w)}  ${score.padStart(8)}  ${r.check.padEnd(cw)}  ${r.description}`);
        }
        out.push('', '* = set by scores: in the config');
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await close();
      }
    });
}
