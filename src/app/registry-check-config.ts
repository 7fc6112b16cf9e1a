/**
 * `spamgate check-config` validator for the check registry: instantiates every enabled check as
 * the daemon would (embedded stores, no network traffic) and reports duplicate checks or symbols,
 * bad dependencies, `scores:` overrides naming unknown symbols and `disabledChecks` naming unknown
 * checks — each at its line in the config file where there is one. Registered from cli/main.ts.
 */
import { keyLocator } from '../config/loader.js';
import { addConfigValidator, type ConfigValidator } from '../cli/check-config.js';
import { buildOfflineRegistry } from './build-engine.js';

export const registryValidator: ConfigValidator = async (loaded, report) => {
  const { problems, checks, close } = buildOfflineRegistry(loaded);
  try {
    report.checks = checks.map((c) => c.name);
    const locate = keyLocator(loaded.file);
    // With a check that failed to build, its symbols are unknown: score overrides naming them
    // would be reported falsely, so only the factory failure is reported.
    const factoryFailed = problems.some((m) => m.startsWith('check factory '));
    for (const message of problems) {
      if (factoryFailed && /^scores\./.test(message)) continue;
      // Rule-file errors are reported (with file:line) by the rules validator.
      if (message.startsWith('check factory rulesCheck failed')) continue;
      const keyPath = keyPathOf(message);
      const { line, column } = keyPath ? locate(keyPath) : { line: 0, column: 0 };
      const text = keyPath ? message.slice(message.indexOf(': ') + 2) : message;
      report.problems.push({ file: loaded.file, line, column, key: keyPath?.join('.') ?? '', message: text });
    }
  } finally {
    await close();
  }
};

/** The config key a registry problem is about, when it names one. */
function keyPathOf(message: string): string[] | undefined {
  const score = /^scores\.([A-Za-z0-9_]+): /.exec(message);
  if (score) return ['scores', score[1]!];
  const dis = /^policy\.domains\.(.+)\.disabledChecks: /.exec(message);
  if (dis) return ['policy', 'domains', dis[1]!, 'disabledChecks'];
  return undefined;
}

let registered = false;
/** Idempotent registration. */
export function registerRegistryValidator(): void {
  if (registered) return;
  registered = true;
  addConfigValidator(registryValidator);
}
registerRegistryValidator();
