/** Meta expressions: table of expressions × hit vectors, and refusals. */
import { compileExpr, exprIds, parseExpr } from '../../../src/rules/expr.js';

const ids = ['A', 'B', 'C'];
function run(src: string, hits: [number, number, number]): number {
  return compileExpr(parseExpr(src), (id) => ids.indexOf(id))(Uint8Array.from(hits));
}

describe('meta expressions', () => {
  test.each<[string, [number, number, number], number]>([
    ['A && (B || !C)', [1, 0, 0], 1],
    ['A && (B || !C)', [1, 0, 1], 0],
    ['A && (B || !C)', [0, 1, 0], 0],
    ['(A + B + C) >= 2', [1, 0, 1], 1],
    ['(A + B + C) >= 2', [0, 0, 1], 0],
    ['A + B * 2 > 2', [1, 1, 0], 1],
    ['A || B && C', [1, 0, 0], 1],
    ['!A', [0, 0, 0], 1],
    ['!!A', [1, 0, 0], 1],
    ['A - B == 0', [1, 1, 0], 1],
    ['A != B', [1, 0, 0], 1],
    ['(A + B) / 2 >= 0.5', [1, 0, 0], 1],
    ['A / 0', [1, 0, 0], 0],
    ['1.5 < 2', [0, 0, 0], 1],
    ['-A < 0', [1, 0, 0], 1],
  ])('%s with %j = %d', (src, hits, want) => expect(run(src, hits)).toBe(want));

  test.each([
    ['', 'empty expression'],
    ['A &&', 'expression ends too early'],
    ['(A', 'missing )'],
    ['A B', 'unexpected "B"'],
    ['A & B', 'unexpected character'],
    ['A; process.exit()', 'unexpected character'],
    ['A >= >= B', 'unexpected ">="'],
  ])('refuses %j', (src, msg) => expect(() => parseExpr(src)).toThrow(msg));

  test('lists referenced ids', () => {
    expect([...exprIds(parseExpr('(A + __B) > 1 && !C_2'))]).toEqual(['A', '__B', 'C_2']);
  });

  test('deep nesting is bounded', () => {
    expect(() => parseExpr('('.repeat(200) + 'A' + ')'.repeat(200))).toThrow('nested too deeply');
  });
});
