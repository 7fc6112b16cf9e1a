/**
 * YAML → validated, typed, frozen Config. Every problem is reported at once, each with
 * file:line:column and the dotted key path, so an admin fixes the file in one pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { configSchema, type Config } from './schema.js';

export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted key path, e.g. `downstream.port` or `listen.1`; '' for the whole document. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.key || '(document)'}: ${p.message}`;
}

/** The config file to use: --config, then $SPAMGATE_CONFIG, then config/spamgate.yaml. */
export function resolveConfigPath(cliPath?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(cliPath ?? env.SPAMGATE_CONFIG ?? 'config/spamgate.yaml');
}

export interface LoadedConfig {
  readonly config: Config;
  readonly file: string;
  /** Directory relative paths in the config (rules, tls) are resolved against. */
  readonly baseDir: string;
}

/** Parse and validate; throws ConfigError listing every problem. */
export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, line: 0, column: 0, key: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, key: '', message: err.message.split('\n')[0]! });
  }
  if (problems.length) throw new ConfigError(problems);

  const raw: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keyPath = issue.path.map(String);
      // An unknown key is reported at the key itself, not at its parent object.
      const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      for (const k of unknownKeys) {
        const full = k === undefined ? keyPath : [...keyPath, k];
        const { line, column } = locate(doc, lineCounter, full);
        problems.push({ file, line, column, key: full.join('.'), message: issue.message });
      }
    }
    throw new ConfigError(problems);
  }
  return { config: deepFreeze(result.data), file, baseDir: path.dirname(path.resolve(file)) };
}

/**
 * For validators that find problems after loading (check registry, rules): key path → line and
 * column of that key in the file (the deepest existing key on the path; 0 when unreadable).
 */
export function keyLocator(file: string): (keyPath: readonly string[]) => { line: number; column: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return () => ({ line: 0, column: 0 });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return (keyPath) => locate(doc, lineCounter, [...keyPath]);
}

/** Line of the deepest existing node on the path (a missing key is reported at its parent). */
function locate(doc: Document, lc: LineCounter, keyPath: string[]): { line: number; column: number } {
  for (let n = keyPath.length; n >= 0; n--) {
    const sub = keyPath.slice(0, n).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    // For a map entry, prefer the key's position (where the admin's eye goes).
    const pair = n > 0 ? findPairKey(doc, sub) : undefined;
    const node = pair ?? (n === 0 ? doc.contents : doc.getIn(sub, true));
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

function findPairKey(doc: Document, sub: (string | number)[]): unknown {
  const parent = sub.length === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
  const last = sub[sub.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray((parent as { items: unknown[] }).items)) {
    for (const item of (parent as { items: unknown[] }).items) {
      if (item && typeof item === 'object' && 'key' in item) {
        const key = (item as { key: unknown }).key;
        if (isNode(key) && 'value' in key && String((key as { value: unknown }).value) === String(last)) return key;
      }
    }
  }
  return undefined;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
