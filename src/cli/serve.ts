/** `spamgate serve`: run the daemon. (Owned by the SMTP proxy work; placeholder until it lands.) */
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SMTP proxy daemon')
    .option('-c, --config <file>', 'config file (default: $SPAMGATE_CONFIG, then config/spamgate.yaml)')
    .action(async () => {
      throw new Error('serve: not implemented yet');
    });
}
