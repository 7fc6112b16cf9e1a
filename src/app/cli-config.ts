/**
 * Config for the offline commands (`scan`, `symbols`): the given file, or — when none was asked
 * for (no --config, no $SPAMGATE_CONFIG) and config/spamgate.yaml does not exist — the built-in
 * defaults, so `spamgate scan msg.eml` works on a fresh checkout.
 */
import fs from 'node:fs';
import { ConfigError, formatProblem, loadConfig, parseConfigText, resolveConfigPath, type LoadedConfig } from '../config/loader.js';

export function loadCliConfig(cliPath: string | undefined): LoadedConfig {
  const file = resolveConfigPath(cliPath);
  if (cliPath === undefined && process.env.SPAMGATE_CONFIG === undefined && !fs.existsSync(file)) {
    return { ...parseConfigText('', '(defaults)'), baseDir: process.cwd() };
  }
  return loadConfig(file);
}

/** Print config problems the way check-config does and fail the command. */
export function reportConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
    throw new Error(`invalid configuration (${e.problems.length} problem(s))`);
  }
  throw e;
}
