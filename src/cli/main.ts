/**
 * `spamgate` command line. One file per subcommand; each registers itself on the program and takes
 * `--config FILE` (default: $SPAMGATE_CONFIG, then config/spamgate.yaml) and `--help`.
 */
import { Command } from 'commander';
// Subcommand modules import only what registering their options needs; each loads the engine,
// checks and stores inside its action, so `serve`'s cluster primary and small commands stay small.
import { registerCheckConfig } from './check-config.js';
import { registerServe } from './serve.js';
import { registerScan } from './scan.js';
import { registerSymbols } from './symbols.js';
import { registerReputation } from './reputation.js';
import { registerHistory } from './history.js';

export function buildProgram(): Command {
  const program = new Command('spamgate')
    .description('Anti-spam SMTP filtering daemon: before-queue SMTP proxy with scoring checks')
    .showHelpAfterError()
    .enablePositionalOptions();
  registerServe(program);
  registerCheckConfig(program);
  registerScan(program);
  registerSymbols(program);
  registerReputation(program);
  registerHistory(program);
  return program;
}

/** `--config FILE` on every subcommand. */
export const CONFIG_OPTION = ['-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)'] as const;

const isMain = process.argv[1] !== undefined && /spamgate(\.js)?$|cli[/\\]main\.js$/.test(process.argv[1]);
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      process.stderr.write(`spamgate: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
