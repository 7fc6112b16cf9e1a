/** A bad rule file is refused with file:line for every problem, never loaded in part. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuleSet } from '../../../src/rules/loader.js';
import { parseRuleFile } from '../../../src/rules/yaml-file.js';
import { formatRuleProblem } from '../../../src/rules/types.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-rules-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function load(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return loadRuleSet({ paths: ['.'], spamassassin: [], baseDir: dir });
}
function problems(files: Record<string, string>): string[] {
  const r = load(files);
  expect(r.ok).toBe(false);
  return r.problems.map(formatRuleProblem).map((s) => s.replace(dir + path.sep, ''));
}

const good = (id: string, test: string) => `  - id: ${id}\n    description: d\n    score: 1\n    category: other\n    ${test}\n`;

describe('bad rule files', () => {
  test.each([
    ['lookahead', good('LOOK', "body: '/foo(?=bar)/'"), /^a\.yaml:6: LOOK: RE2 cannot compile .*lookaround/],
    ['backreference', good('BACK', "body: '/(a)\\1/'"), /^a\.yaml:6: BACK: RE2 cannot compile .*backreferences/],
    ['bad flag', good('FLAG', "body: '/foo/x'"), /^a\.yaml:6: FLAG: body: unsupported regex flags "x"/],
    ['unknown meta reference', good('META', "meta: 'NOPE && !NOPE'"), /^a\.yaml:6: META: meta refers to unknown rule NOPE/],
    ['meta syntax', good('META', "meta: 'A &&'"), /^a\.yaml:6: META: meta: expression ends too early/],
    ['unknown eval', good('EV', 'eval: no_such_test'), /^a\.yaml:6: EV: unknown eval test "no_such_test"/],
    ['lower-case id', good('lower', "body: '/x/'"), /^a\.yaml:2: lower: id "lower" must be UPPER_SNAKE/],
    ['unknown category', good('CAT', "body: '/x/'").replace('other', 'nonsense'), /^a\.yaml:5: CAT: unknown category "nonsense"/],
    ['two tests', good('TWO', "body: '/x/'\n    rawbody: '/y/'"), /^a\.yaml:2: TWO: more than one test \(body, rawbody\)/],
  ])('%s', (_name, rule, expected) => {
    const list = problems({ 'a.yaml': `rules:\n${rule}` });
    expect(list).toEqual([expect.stringMatching(expected)]);
  });

  test('bad YAML names file:line:column', () => {
    expect(problems({ 'a.yaml': 'rules:\n  - id: X\n    body: [unclosed\n' })[0]).toMatch(/^a\.yaml:\d+:\d+: YAML: /);
  });

  test('duplicate id across files names both places', () => {
    const list = problems({ 'a.yaml': `rules:\n${good('DUP', "body: '/x/'")}`, 'b.yaml': `rules:\n\n${good('DUP', "body: '/y/'")}` });
    expect(list).toEqual([expect.stringMatching(/^b\.yaml:3: DUP: duplicate rule id \(first defined at .*a\.yaml:2\)/)]);
  });

  test('meta cycle is refused', () => {
    const list = problems({ 'a.yaml': `rules:\n${good('A', "meta: 'B'")}${good('B', "meta: 'A'")}` });
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(/cycle/);
  });

  test('every problem of every file is listed at once', () => {
    const list = problems({
      'a.yaml': `rules:\n${good('ONE', "body: '/(?<=x)y/'")}${good('TWO', "uri: { domain: '/a(?!b)/' }")}`,
      'b.yaml': `rules:\n  - id: THREE\n    body: '/x/'\n`,
    });
    expect(list).toEqual([
      expect.stringMatching(/^b\.yaml:2: THREE: missing `description`/),
      expect.stringMatching(/^b\.yaml:2: THREE: missing `score`/),
      expect.stringMatching(/^b\.yaml:2: THREE: missing `category`/),
      expect.stringMatching(/^a\.yaml:6: ONE: RE2 cannot compile/),
      expect.stringMatching(/^a\.yaml:11: TWO: RE2 cannot compile/),
    ]);
  });

  test('a missing rules path is a problem, not an empty set', () => {
    const r = loadRuleSet({ paths: ['nope'], spamassassin: [], baseDir: dir });
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.message).toMatch(/cannot read rules/);
  });

  test('unknown keys are reported where they are', () => {
    const r = parseRuleFile(`rules:\n${good('K', "body: '/x/'")}    colour: red\n`, 'k.yaml');
    expect(r.problems.map(formatRuleProblem)).toEqual(['k.yaml:7: K: unknown key "colour"']);
  });
});
