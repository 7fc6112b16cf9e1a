import { describe, expect, test } from '@jest/globals';
import type { ForcedAction } from '../../../src/core/pipeline.js';
import type { Emission } from '../../../src/core/types.js';
import { actionForScore, computeVerdict, DEFAULT_THRESHOLDS, strictest } from '../../../src/core/verdict.js';

const scores: Record<string, number> = { A: 1.5, B: 2.5, C: 4, D: 10, NEG: -3, ZERO: 0, TENTH: 0.1, TWOTENTHS: 0.2 };
const em = (name: string, weight = 1, options: string[] = []): Emission => ({ name, weight, options, check: 't' });
const forced = (action: ForcedAction['action'], by = 'lists'): ForcedAction => ({ action, reason: `${action} by ${by}`, by });

describe('verdict bands (defaults greylist 4, tag 6, reject 15)', () => {
  test.each([
    [[], 0, 'accept'],
    [['A'], 1.5, 'accept'],
    [['A', 'B'], 4, 'greylist'],
    [['C'], 4, 'greylist'],
    [['A', 'C'], 5.5, 'greylist'],
    [['B', 'C'], 6.5, 'tag'],
    [['C', 'D'], 14, 'tag'],
    [['A', 'C', 'D'], 15.5, 'reject'],
    [['D', 'NEG'], 7, 'tag'],
    [['NEG'], -3, 'accept'],
    [['ZERO'], 0, 'accept'],
    [['UNKNOWN'], 0, 'accept'],
  ] as const)('%j → %d %s', (names, score, action) => {
    const v = computeVerdict({ emissions: names.map((n) => em(n)), scoreOf: (n) => scores[n], thresholds: DEFAULT_THRESHOLDS });
    expect(v.score).toBe(score);
    expect(v.action).toBe(action);
    expect(v.required).toBe(6);
    expect(v.forced).toBeUndefined();
  });

  test.each([
    [3.99, 'accept'],
    [4, 'greylist'],
    [5.99, 'greylist'],
    [6, 'tag'],
    [14.99, 'tag'],
    [15, 'reject'],
    [1000, 'reject'],
    [-100, 'accept'],
  ] as const)('score %d → %s', (score, action) => {
    expect(actionForScore(score, DEFAULT_THRESHOLDS)).toBe(action);
  });

  test('a greylist threshold at or above tag leaves no greylist band', () => {
    const t = { greylist: 100, tag: 6, reject: 15 };
    expect(actionForScore(5, t)).toBe('accept');
    expect(actionForScore(7, t)).toBe('tag');
  });
});

describe('scoring details', () => {
  test('a symbol emitted twice counts once (highest weight, options merged)', () => {
    const v = computeVerdict({ emissions: [em('D', 0.2, ['x']), em('D', 0.5, ['y', 'x']), em('A')], scoreOf: (n) => scores[n], thresholds: DEFAULT_THRESHOLDS });
    expect(v.symbols).toEqual([{ name: 'D', score: 5, options: ['x', 'y'] }, { name: 'A', score: 1.5, options: [] }]);
    expect(v.score).toBe(6.5);
  });

  test('weight multiplies the configured score', () => {
    const v = computeVerdict({ emissions: [em('D', 0.5)], scoreOf: (n) => scores[n], thresholds: DEFAULT_THRESHOLDS });
    expect(v.score).toBe(5);
    expect(v.symbols).toEqual([{ name: 'D', score: 5, options: [] }]);
  });

  test('the sum is rounded to 1/100 so float error never misses a threshold', () => {
    const t = { greylist: 0.3, tag: 6, reject: 15 };
    const v = computeVerdict({ emissions: [em('TENTH'), em('TWOTENTHS')], scoreOf: (n) => scores[n], thresholds: t });
    expect(v.score).toBe(0.3);
    expect(v.action).toBe('greylist');
  });

  test('symbols are listed by score descending, then name', () => {
    const v = computeVerdict({ emissions: ['ZERO', 'A', 'D', 'NEG', 'B'].map((n) => em(n)), scoreOf: (n) => scores[n], thresholds: DEFAULT_THRESHOLDS });
    expect(v.symbols.map((s) => s.name)).toEqual(['D', 'B', 'A', 'ZERO', 'NEG']);
  });

  test('custom thresholds: required is the tag threshold', () => {
    const v = computeVerdict({ emissions: [em('C')], scoreOf: (n) => scores[n], thresholds: { greylist: 2, tag: 3, reject: 4 } });
    expect(v).toMatchObject({ action: 'reject', score: 4, required: 3 });
    expect(v.reason).toMatch(/score 4/);
  });
});

describe('forced actions', () => {
  const base = { emissions: [em('D'), em('C')], scoreOf: (n: string) => scores[n], thresholds: DEFAULT_THRESHOLDS };
  test.each([
    [['accept'], 'accept'],
    [['reject'], 'reject'],
    [['tempfail'], 'tempfail'],
    [['greylist'], 'greylist'],
    [['accept', 'reject'], 'reject'],
    [['reject', 'accept'], 'reject'],
    [['greylist', 'accept'], 'greylist'],
    [['tempfail', 'reject'], 'reject'],
    [['greylist', 'tempfail'], 'tempfail'],
  ] as const)('forced %j → %s (strictest wins, score ignored)', (actions, action) => {
    const v = computeVerdict({ ...base, forced: actions.map((a) => forced(a)) });
    expect(v.action).toBe(action);
    expect(v.score).toBe(14); // still reported for the admin
    expect(v.forced).toEqual({ by: 'lists', reason: `${action} by lists` });
    expect(v.reason).toBe(`${action} by lists`);
  });

  test('a forced accept overrides a reject score', () => {
    const v = computeVerdict({ emissions: [em('D'), em('D'), em('C'), em('A')], scoreOf: (n) => scores[n], thresholds: DEFAULT_THRESHOLDS, forced: [forced('accept', 'allow')] });
    expect(v).toMatchObject({ action: 'accept', score: 15.5, forced: { by: 'allow' } });
  });

  test('strictest()', () => {
    expect(strictest('accept', 'tag')).toBe('tag');
    expect(strictest('reject', 'greylist')).toBe('reject');
    expect(strictest('greylist', 'tag')).toBe('greylist');
  });
});
