/**
 * Meta rule expressions: a tiny recursive-descent parser (no eval) for boolean and arithmetic
 * combinations of other rules, with SpamAssassin's meaning: a rule id is 1 when it hit, else 0.
 *
 *   expr   := or
 *   or     := and ('||' and)*
 *   and    := cmp ('&&' cmp)*
 *   cmp    := sum (('>'|'>='|'<'|'<='|'=='|'!=') sum)?
 *   sum    := prod (('+'|'-') prod)*
 *   prod   := unary (('*'|'/') unary)*
 *   unary  := ('!'|'-') unary | atom
 *   atom   := NUMBER | RULE_ID | '(' expr ')'
 */

export type Expr =
  | { readonly t: 'num'; readonly v: number }
  | { readonly t: 'id'; readonly id: string }
  | { readonly t: 'not' | 'neg'; readonly a: Expr }
  | { readonly t: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr };

export class ExprError extends Error {}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\|\||&&|>=|<=|==|!=|[-+*/()!<>]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new ExprError(`unexpected character ${JSON.stringify(src.slice(pos).trim()[0])} at offset ${pos}`);
    out.push(m[1] ?? m[2] ?? m[3]!);
    pos = TOKEN.lastIndex;
  }
  return out;
}

/** Parse an expression; throws ExprError with a readable message. */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  if (toks.length === 0) throw new ExprError('empty expression');
  if (toks.length > 2000) throw new ExprError('expression too long');
  let i = 0;
  const peek = () => toks[i];
  const take = () => toks[i++];
  let depth = 0;

  const atom = (): Expr => {
    const t = take();
    if (t === undefined) throw new ExprError('expression ends too early');
    if (t === '(') {
      if (++depth > 100) throw new ExprError('expression nested too deeply');
      const e = or();
      depth--;
      if (take() !== ')') throw new ExprError('missing )');
      return e;
    }
    if (/^\d/.test(t)) return { t: 'num', v: Number(t) };
    if (/^[A-Za-z_]/.test(t)) return { t: 'id', id: t };
    throw new ExprError(`unexpected ${JSON.stringify(t)}`);
  };
  const unary = (): Expr => {
    const t = peek();
    if (t === '!') {
      take();
      return { t: 'not', a: unary() };
    }
    if (t === '-') {
      take();
      return { t: 'neg', a: unary() };
    }
    return atom();
  };
  const left = (next: () => Expr, ops: readonly string[]) => (): Expr => {
    let a = next();
    while (ops.includes(peek() ?? '')) {
      const op = take()!;
      a = { t: 'bin', op, a, b: next() };
    }
    return a;
  };
  const prod = left(unary, ['*', '/']);
  const sum = left(prod, ['+', '-']);
  const cmp = (): Expr => {
    const a = sum();
    const op = peek();
    if (op && ['>', '>=', '<', '<=', '==', '!='].includes(op)) {
      take();
      return { t: 'bin', op, a, b: sum() };
    }
    return a;
  };
  const and = left(cmp, ['&&']);
  const or = left(and, ['||']);

  const e = or();
  if (i < toks.length) throw new ExprError(`unexpected ${JSON.stringify(toks[i])}`);
  return e;
}

/** Every rule id an expression mentions. */
export function exprIds(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.t) {
    case 'id':
      out.add(e.id);
      break;
    case 'not':
    case 'neg':
      exprIds(e.a, out);
      break;
    case 'bin':
      exprIds(e.a, out);
      exprIds(e.b, out);
      break;
  }
  return out;
}

/** Compile to a closure over the hit vector; `index` maps ids to positions (all ids must resolve). */
export function compileExpr(e: Expr, index: (id: string) => number): (hits: Uint8Array) => number {
  switch (e.t) {
    case 'num': {
      const v = e.v;
      return () => v;
    }
    case 'id': {
      const k = index(e.id);
      return (h) => h[k]!;
    }
    case 'not': {
      const a = compileExpr(e.a, index);
      return (h) => (a(h) ? 0 : 1);
    }
    case 'neg': {
      const a = compileExpr(e.a, index);
      return (h) => -a(h);
    }
    case 'bin': {
      const a = compileExpr(e.a, index);
      const b = compileExpr(e.b, index);
      switch (e.op) {
        case '||': return (h) => (a(h) || b(h) ? 1 : 0);
        case '&&': return (h) => (a(h) && b(h) ? 1 : 0);
        case '+': return (h) => a(h) + b(h);
        case '-': return (h) => a(h) - b(h);
        case '*': return (h) => a(h) * b(h);
        case '/': return (h) => { const d = b(h); return d === 0 ? 0 : a(h) / d; };
        case '>': return (h) => (a(h) > b(h) ? 1 : 0);
        case '>=': return (h) => (a(h) >= b(h) ? 1 : 0);
        case '<': return (h) => (a(h) < b(h) ? 1 : 0);
        case '<=': return (h) => (a(h) <= b(h) ? 1 : 0);
        case '==': return (h) => (a(h) === b(h) ? 1 : 0);
        case '!=': return (h) => (a(h) !== b(h) ? 1 : 0);
      }
      throw new ExprError(`unknown operator ${e.op}`);
    }
  }
}
