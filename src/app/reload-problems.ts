import { ConfigError, formatProblem } from '../config/loader.js';

/** A failed reload's problems, one line each, the same way everywhere (CLI, cluster primary and workers). */
export function reloadProblems(e: unknown): string[] {
  return e instanceof ConfigError ? e.problems.map(formatProblem) : [(e as Error).message];
}
