/**
 * Read one YAML rule file into RuleSpecs, listing every problem with file:line (the `yaml`
 * package's LineCounter, as config/loader.ts does). Regex compilation and cross-rule checks
 * (duplicates, meta references) happen in compile.ts, which sees all files together.
 */
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { CATEGORIES, type HeaderPart, type RegexSpec, type RuleProblem, type RuleSpec, type TestSpec } from './types.js';
import { parseRegexNotation } from './regex.js';

const ID = /^_{0,2}[A-Z][A-Z0-9_]*$/;
const TEST_KEYS = ['header', 'body', 'rawbody', 'full', 'uri', 'attachment', 'size', 'meta', 'eval'] as const;
const RULE_KEYS = new Set(['id', 'description', 'score', 'category', 'args', 'flags', ...TEST_KEYS]);

export interface YamlRulesResult {
  readonly rules: RuleSpec[];
  readonly problems: RuleProblem[];
}

export function parseRuleFile(text: string, file: string): YamlRulesResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RuleProblem[] = [];
  const rules: RuleSpec[] = [];
  const lineOf = (n: { range?: [number, number, number] | null } | null | undefined): number =>
    n?.range ? lc.linePos(n.range[0]).line : 1;

  for (const err of doc.errors) {
    const pos = lc.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, message: `YAML: ${err.message.split('\n')[0]}` });
  }
  if (problems.length) return { rules, problems };
  const root = doc.contents;
  if (root === null || root === undefined) return { rules, problems };
  if (!isMap(root)) {
    problems.push({ file, line: lineOf(root as Node), message: 'a rule file is a mapping with a `rules:` list' });
    return { rules, problems };
  }
  for (const pair of root.items) {
    const k = keyName(pair);
    if (k !== 'rules') problems.push({ file, line: lineOf(pair.key as Node), message: `unknown top-level key "${k}" (expected "rules")` });
  }
  const list = root.get('rules', true);
  if (list === undefined) return { rules, problems };
  if (!isSeq(list)) {
    problems.push({ file, line: lineOf(list as Node), message: '`rules` must be a list' });
    return { rules, problems };
  }
  for (const item of list.items) {
    if (!isMap(item)) {
      problems.push({ file, line: lineOf(item as Node), message: 'each rule is a mapping (id, description, score, category and one test)' });
      continue;
    }
    const r = readRule(item, file, lineOf, problems);
    if (r) rules.push(r);
  }
  return { rules, problems };
}

function keyName(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

function readRule(
  map: YAMLMap,
  file: string,
  lineOf: (n: { range?: [number, number, number] | null } | null | undefined) => number,
  problems: RuleProblem[],
): RuleSpec | undefined {
  const line = lineOf(map);
  const fields = new Map<string, { value: unknown; line: number }>();
  for (const p of map.items) {
    const k = keyName(p);
    const v = isScalar(p.value) ? p.value.value : (p.value as Node | null)?.toJSON?.() ?? p.value;
    fields.set(k, { value: v, line: lineOf(p.key as Node) });
  }
  const idF = fields.get('id');
  const id = typeof idF?.value === 'string' ? idF.value : undefined;
  const before = problems.length;
  const bad = (message: string, at = line) => problems.push({ file, line: at, ...(id ? { rule: id } : {}), message });

  if (!id) bad('missing `id` (UPPER_SNAKE symbol name)');
  else if (!ID.test(id)) bad(`id "${id}" must be UPPER_SNAKE (A-Z, 0-9, _; a leading __ marks a non-reported sub-rule)`, idF!.line);
  for (const [k, f] of fields) if (!RULE_KEYS.has(k)) bad(`unknown key "${k}"`, f.line);

  const description = fields.get('description')?.value;
  const isSub = id?.startsWith('__') ?? false;
  if (typeof description !== 'string' || !description.trim()) {
    if (!isSub) bad('missing `description`');
  }
  const scoreF = fields.get('score');
  let score = 0;
  if (scoreF === undefined) {
    if (!isSub) bad('missing `score`');
  } else if (typeof scoreF.value !== 'number' || !Number.isFinite(scoreF.value)) bad('`score` must be a number', scoreF.line);
  else score = scoreF.value;
  const catF = fields.get('category');
  let category = 'other';
  if (catF === undefined) {
    if (!isSub) bad(`missing \`category\` (one of ${CATEGORIES.join(', ')})`);
  } else if (typeof catF.value !== 'string' || !(CATEGORIES as readonly string[]).includes(catF.value)) {
    bad(`unknown category ${JSON.stringify(catF.value)} (one of ${CATEGORIES.join(', ')})`, catF.line);
  } else category = catF.value;

  const tests = TEST_KEYS.filter((k) => fields.has(k));
  if (tests.length !== 1) {
    bad(tests.length === 0 ? `no test: give exactly one of ${TEST_KEYS.join(', ')}` : `more than one test (${tests.join(', ')}): give exactly one`);
    return undefined;
  }
  const kind = tests[0]!;
  const tf = fields.get(kind)!;
  const flags = fields.get('flags')?.value;
  if (flags !== undefined && typeof flags !== 'string') bad('`flags` must be a string like "i"', fields.get('flags')!.line);
  const test = readTest(kind, tf.value, typeof flags === 'string' ? flags : '', fields.get('args')?.value, (m) => bad(m, tf.line));
  if (problems.length > before || !test || !id) return undefined;
  return {
    id,
    description: typeof description === 'string' ? description.trim() : '',
    score,
    category,
    test,
    pos: { file, line },
    testLine: tf.line,
    source: 'yaml',
  };
}

function rx(v: unknown, flags: string, what: string, bad: (m: string) => void): RegexSpec | undefined {
  if (typeof v !== 'string') {
    bad(`${what} must be a regex string like '/pattern/i'`);
    return undefined;
  }
  const r = parseRegexNotation(v, flags);
  if (typeof r === 'string') {
    bad(`${what}: ${r}`);
    return undefined;
  }
  return r;
}

function strList(v: unknown, what: string, bad: (m: string) => void): string[] | undefined {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x.length > 0)) {
    bad(`${what} must be a string or a list of strings`);
    return undefined;
  }
  return list.map((x: string) => x.toLowerCase().replace(/^\./, ''));
}

function obj(v: unknown, what: string, allowed: readonly string[], bad: (m: string) => void): Record<string, unknown> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    bad(`${what} must be a mapping`);
    return undefined;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${what}: unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  return o;
}

function readTest(kind: (typeof TEST_KEYS)[number], v: unknown, flags: string, args: unknown, bad: (m: string) => void): TestSpec | undefined {
  switch (kind) {
    case 'body':
    case 'rawbody':
    case 'full': {
      const r = rx(v, flags, kind, bad);
      return r && { kind, regex: r };
    }
    case 'header': {
      const o = obj(v, 'header', ['name', 'regex', 'exists', 'part', 'negate', 'ifUnset'], bad);
      if (!o) return undefined;
      if (typeof o.name !== 'string' || !/^[!-9;-~]+$/.test(o.name)) {
        bad('header.name must be a header field name (or ALL)');
        return undefined;
      }
      const part = (o.part ?? 'decoded') as HeaderPart;
      if (!['decoded', 'raw', 'addr', 'name'].includes(part)) bad('header.part must be one of decoded, raw, addr, name');
      if ((o.exists === undefined) === (o.regex === undefined)) {
        bad('header needs exactly one of `exists: true|false` or `regex`');
        return undefined;
      }
      if (o.exists !== undefined && typeof o.exists !== 'boolean') bad('header.exists must be true or false');
      if (o.negate !== undefined && typeof o.negate !== 'boolean') bad('header.negate must be true or false');
      if (o.ifUnset !== undefined && typeof o.ifUnset !== 'string') bad('header.ifUnset must be a string');
      const regex = o.regex !== undefined ? rx(o.regex, flags, 'header.regex', bad) : undefined;
      return {
        kind: 'header',
        name: o.name,
        part,
        ...(typeof o.exists === 'boolean' ? { exists: o.exists } : {}),
        ...(regex ? { regex } : {}),
        ...(o.negate === true ? { negate: true } : {}),
        ...(typeof o.ifUnset === 'string' ? { ifUnset: o.ifUnset } : {}),
      };
    }
    case 'uri': {
      if (typeof v === 'string') {
        const r = rx(v, flags, 'uri', bad);
        return r && { kind: 'uri', target: 'url', regex: r };
      }
      const o = obj(v, 'uri', ['url', 'domain', 'host', 'ipLiteral', 'punycode'], bad);
      if (!o) return undefined;
      const targets = (['url', 'domain', 'host'] as const).filter((k) => o[k] !== undefined);
      if (targets.length > 1) bad('uri: give one of url, domain, host');
      const target = targets[0] ?? 'url';
      const regex = targets[0] ? rx(o[target], flags, `uri.${target}`, bad) : undefined;
      for (const b of ['ipLiteral', 'punycode']) if (o[b] !== undefined && o[b] !== true) bad(`uri.${b} must be true`);
      if (!regex && o.ipLiteral !== true && o.punycode !== true) {
        bad('uri needs a regex (url, domain or host) or ipLiteral: true or punycode: true');
        return undefined;
      }
      return { kind: 'uri', target, ...(regex ? { regex } : {}), ...(o.ipLiteral === true ? { ipLiteral: true } : {}), ...(o.punycode === true ? { punycode: true } : {}) };
    }
    case 'attachment': {
      const o = obj(v, 'attachment', ['name', 'extension', 'doubleExtension', 'contentType', 'sniffed', 'typeMismatch', 'archiveEntry', 'archiveExtension'], bad);
      if (!o) return undefined;
      if (Object.keys(o).length === 0) {
        bad('attachment needs at least one condition');
        return undefined;
      }
      for (const b of ['doubleExtension', 'typeMismatch']) if (o[b] !== undefined && o[b] !== true) bad(`attachment.${b} must be true`);
      const name = o.name !== undefined ? rx(o.name, flags, 'attachment.name', bad) : undefined;
      const contentType = o.contentType !== undefined ? rx(o.contentType, flags, 'attachment.contentType', bad) : undefined;
      const archiveEntry = o.archiveEntry !== undefined ? rx(o.archiveEntry, flags, 'attachment.archiveEntry', bad) : undefined;
      const extensions = o.extension !== undefined ? strList(o.extension, 'attachment.extension', bad) : undefined;
      const sniffed = o.sniffed !== undefined ? strList(o.sniffed, 'attachment.sniffed', bad) : undefined;
      const archiveExtensions = o.archiveExtension !== undefined ? strList(o.archiveExtension, 'attachment.archiveExtension', bad) : undefined;
      return {
        kind: 'attachment',
        ...(name ? { name } : {}),
        ...(extensions ? { extensions } : {}),
        ...(o.doubleExtension === true ? { doubleExtension: true } : {}),
        ...(contentType ? { contentType } : {}),
        ...(sniffed ? { sniffed } : {}),
        ...(o.typeMismatch === true ? { typeMismatch: true } : {}),
        ...(archiveEntry ? { archiveEntry } : {}),
        ...(archiveExtensions ? { archiveExtensions } : {}),
      };
    }
    case 'size': {
      const o = obj(v, 'size', ['min', 'max'], bad);
      if (!o) return undefined;
      const ok = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isInteger(x) && x >= 0);
      if (!ok(o.min) || !ok(o.max) || (o.min === undefined && o.max === undefined)) {
        bad('size needs min and/or max as byte counts');
        return undefined;
      }
      return { kind: 'size', ...(o.min !== undefined ? { min: o.min as number } : {}), ...(o.max !== undefined ? { max: o.max as number } : {}) };
    }
    case 'meta':
      if (typeof v !== 'string' || !v.trim()) {
        bad('meta must be an expression like "A && (B || !C)" or "(A + B + C) >= 2"');
        return undefined;
      }
      return { kind: 'meta', expr: v };
    case 'eval':
      if (typeof v !== 'string') {
        bad('eval must name a built-in test');
        return undefined;
      }
      if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
        bad('args must be a mapping');
        return undefined;
      }
      return { kind: 'eval', name: v, args: (args ?? {}) as Record<string, unknown> };
  }
}
