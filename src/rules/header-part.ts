/** The parts of a header field a header test can scan (SpamAssassin's `:addr`, `:name`, `:raw`). */
import type { HeaderPart } from './types.js';

const ADDR = /[^\s<>"(),;:[\]]+@[^\s<>"(),;:[\]]+/;

export function headerPart(v: string, part: HeaderPart): string {
  switch (part) {
    case 'addr':
      // SpamAssassin's :addr: the first addr-spec of the field.
      return ADDR.exec(v)?.[0] ?? '';
    case 'name': {
      // SpamAssassin's :name (approximation): the display name before `<`, or a `(comment)` name.
      const lt = v.indexOf('<');
      const paren = /\(([^)]*)\)/.exec(v);
      const name = lt > 0 ? v.slice(0, lt) : paren ? paren[1]! : '';
      return name.trim().replace(/^"|"$/g, '').trim();
    }
    default:
      return v;
  }
}
