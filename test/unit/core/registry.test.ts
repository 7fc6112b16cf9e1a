import { describe, expect, test } from '@jest/globals';
import { CheckRegistry, RegistryError } from '../../../src/core/registry.js';
import type { SymbolDef } from '../../../src/core/types.js';
import { sym, testCheck } from './_helpers.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    return [...(e as RegistryError).problems];
  }
  throw new Error('expected RegistryError');
}

describe('CheckRegistry refuses bad setups, listing every problem at once', () => {
  test('a clean registry: symbols, scores, stage order', () => {
    const r = CheckRegistry.build(
      [testCheck('a', 'data', [sym('A_ONE', 2)], undefined, { dependsOn: ['b'] }), testCheck('b', 'data', [sym('B_ONE', 3)]), testCheck('c', 'connect', [sym('C_ONE')])],
      { A_ONE: 5 },
    );
    expect(r.forStage('data').map((c) => c.name)).toEqual(['b', 'a']);
    expect(r.forStage('connect').map((c) => c.name)).toEqual(['c']);
    expect(r.forStage('rcpt')).toEqual([]);
    expect(r.scoreOf('A_ONE')).toBe(5);
    expect(r.symbol('A_ONE')).toMatchObject({ check: 'a', overridden: true });
    expect(r.scoreOf('B_ONE')).toBe(3);
    expect(r.scoreOf('CHECK_ERROR')).toBe(0);
    expect(r.scoreOf('CHECK_TIMEOUT')).toBe(0);
    expect(r.symbols().map((s) => s.def.name)).toEqual(['A_ONE', 'B_ONE', 'CHECK_ERROR', 'CHECK_TIMEOUT', 'C_ONE']);
    expect(r.declares('a', 'A_ONE')).toBe(true);
    expect(r.declares('a', 'B_ONE')).toBe(false);
  });

  test('duplicates, unknown dependency, later-stage dependency, unknown score override', () => {
    const p = problems(() =>
      CheckRegistry.build(
        [
          testCheck('a', 'data', [sym('X')]),
          testCheck('a', 'data', [sym('Y')]),
          testCheck('b', 'data', [sym('X'), sym('Z'), sym('Z')]),
          testCheck('c', 'mail', [sym('W')], undefined, { dependsOn: ['nope', 'b'] }),
        ],
        { NOT_DECLARED: 1, X: 2 },
      ),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'check "a" is registered twice',
        'symbol "X" is declared by both "a" and "b"',
        'check "b" declares symbol "Z" twice',
        'check "c" depends on "nope", which is not a registered (enabled) check',
        'check "c" (stage mail) depends on "b" of the later stage data',
        'scores.NOT_DECLARED: no check declares the symbol "NOT_DECLARED"',
      ]),
    );
    expect(p).toHaveLength(6);
  });

  test('dependency cycles', () => {
    const p = problems(() =>
      CheckRegistry.build([
        testCheck('a', 'data', [sym('A')], undefined, { dependsOn: ['b'] }),
        testCheck('b', 'data', [sym('B')], undefined, { dependsOn: ['c'] }),
        testCheck('c', 'data', [sym('C')], undefined, { dependsOn: ['a'] }),
      ]),
    );
    expect(p).toEqual(['dependency cycle: a -> b -> c -> a']);
    expect(problems(() => CheckRegistry.build([testCheck('s', 'data', [sym('S')], undefined, { dependsOn: ['s'] })]))).toEqual(['dependency cycle: s -> s']);
  });

  test('names: lower_snake checks, UPPER_SNAKE symbols, reserved engine name, engine symbols', () => {
    const p = problems(() =>
      CheckRegistry.build([testCheck('Bad-Name', 'data', [sym('lower')]), testCheck('engine', 'data', [sym('CHECK_ERROR')]), testCheck('t', 'data', [sym('OK')], undefined, { timeoutMs: 0 })]),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'check "Bad-Name": name must be lower_snake',
        'check "Bad-Name": symbol "lower" is not UPPER_SNAKE',
        'check "engine": name is reserved for the engine',
        'check "engine": symbol "CHECK_ERROR" is reserved for the engine',
        'check "t": timeoutMs must be a positive number',
      ]),
    );
  });

  test('dynamic symbols: rebuildSymbols swaps a clean table and keeps the old one on problems', () => {
    let ruleSymbols: SymbolDef[] = [sym('RULE_A', 1), sym('RULE_B', 2)];
    const rules = { ...testCheck('rules', 'data', []), get symbols() { return ruleSymbols; } };
    const r = CheckRegistry.build([rules, testCheck('other', 'data', [sym('OTHER')])], { RULE_A: 7 });
    expect(r.scoreOf('RULE_A')).toBe(7);

    ruleSymbols = [sym('RULE_A', 1), sym('RULE_C', 3)];
    expect(r.rebuildSymbols()).toEqual([]);
    expect(r.scoreOf('RULE_B')).toBeUndefined();
    expect(r.scoreOf('RULE_C')).toBe(3);
    expect(r.declares('rules', 'RULE_C')).toBe(true);

    // A reload dropping a symbol that `scores:` overrides, or clashing with another check: refused.
    ruleSymbols = [sym('RULE_C', 3), sym('OTHER', 1)];
    expect(r.rebuildSymbols()).toEqual(['symbol "OTHER" is declared by both "rules" and "other"', 'scores.RULE_A: no check declares the symbol "RULE_A"']);
    expect(r.scoreOf('RULE_A')).toBe(7); // old table kept
    expect(r.declares('rules', 'RULE_C')).toBe(true);
    expect(r.symbol('OTHER')?.check).toBe('other');

    // New overrides (config reload) are validated the same way.
    expect(r.rebuildSymbols({ NOPE: 1 })).toEqual(['symbol "OTHER" is declared by both "rules" and "other"', 'scores.NOPE: no check declares the symbol "NOPE"']);
    ruleSymbols = [sym('RULE_C', 3)];
    expect(r.rebuildSymbols({ RULE_C: 9 })).toEqual([]);
    expect(r.scoreOf('RULE_C')).toBe(9);
  });
});

describe('validateSymbols', () => {
  test('reports what a candidate symbol list would break, without swapping', () => {
    const r = CheckRegistry.build([testCheck('rules', 'data', [sym('RULE_A')]), testCheck('other', 'data', [sym('OTHER')])], { RULE_A: 2 });
    expect(r.validateSymbols('rules', [sym('RULE_A'), sym('RULE_B')])).toEqual([]);
    expect(r.validateSymbols('rules', [sym('OTHER')])).toEqual(['symbol "OTHER" is declared by both "rules" and "other"', 'scores.RULE_A: no check declares the symbol "RULE_A"']);
    expect(r.scoreOf('RULE_A')).toBe(2);
    expect(r.symbol('RULE_B')).toBeUndefined();
  });
});

describe('extra symbols (verdict modifiers)', () => {
  test('declared like check symbols: listed, overridable, clashes refused', () => {
    const r = CheckRegistry.build([testCheck('a', 'data', [sym('A_X')])], { GREY_PASS: 0.5 }, [{ owner: 'greylist', symbols: [sym('GREY_PASS', 0)] }]);
    expect(r.symbol('GREY_PASS')).toMatchObject({ check: 'greylist', score: 0.5 });
    expect(r.rebuildSymbols()).toEqual([]);
    expect(problems(() => CheckRegistry.build([testCheck('a', 'data', [sym('A_X')])], {}, [{ owner: 'greylist', symbols: [sym('A_X')] }]))).toEqual([
      'symbol "A_X" is declared by both "a" and "greylist"',
    ]);
  });
});
