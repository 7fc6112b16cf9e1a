/** `spamgate check-config`: validate the config (and, once wired, the rules); list every problem. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, resolveConfigPath, type ConfigProblem } from '../config/loader.js';

export interface CheckReport {
  ok: boolean;
  file: string;
  problems: ConfigProblem[];
  [extra: string]: unknown;
}

/** Extra validators (rules, SpamAssassin import, check registry) plug in here. */
export type ConfigValidator = (loaded: ReturnType<typeof loadConfig>, report: CheckReport) => Promise<void> | void;
const validators: ConfigValidator[] = [];
export function addConfigValidator(v: ConfigValidator): void {
  validators.push(v);
}

/**
 * The validators beyond the schema, loaded on first use (they pull in the engine and every check).
 * Order matters: rule-file errors first, then the check registry (which skips rule failures).
 */
async function loadBuiltInValidators(): Promise<void> {
  await import('../rules/check-config.js');
  await import('../app/registry-check-config.js');
}

export async function checkConfig(file: string): Promise<CheckReport> {
  await loadBuiltInValidators();
  const report: CheckReport = { ok: true, file, problems: [] };
  try {
    const loaded = loadConfig(file);
    for (const v of validators) await v(loaded, report);
  } catch (e) {
    if (e instanceof ConfigError) report.problems.push(...e.problems);
    else throw e;
  }
  report.ok = report.problems.length === 0;
  return report;
}

export function registerCheckConfig(program: Command): void {
  program
    .command('check-config')
    .description('validate the configuration and rule files; print every problem with file:line; exit 1 if any')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const report = await checkConfig(resolveConfigPath(opts.config));
      if (opts.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      } else if (report.ok) {
        process.stdout.write(`${report.file}: OK\n`);
      } else {
        for (const p of report.problems) process.stderr.write(`${p.file}:${p.line}:${p.column}: ${p.key || '(document)'}: ${p.message}\n`);
      }
      process.exitCode = report.ok ? 0 : 1;
    });
}
