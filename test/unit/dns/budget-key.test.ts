import { budgetKeyFor } from '../../../src/dns/budget-key.js';
import { LayeredFacts } from '../../../src/core/facts-map.js';
import type { SessionView, Stage } from '../../../src/core/types.js';

const session = { id: 'sess-1' } as SessionView;

test('connect/helo lookups are charged to the session; each transaction gets its own key', () => {
  const facts = new LayeredFacts();
  const at = (stage: Stage) => budgetKeyFor({ stage, session, facts });
  expect(at('connect')).toBe('sess-1');
  expect(at('helo')).toBe('sess-1');
  facts.sessionLayer = false; // the engine switches to the transaction layer at MAIL
  const first = at('mail');
  expect(at('rcpt')).toBe(first);
  expect(at('data')).toBe(first); // same message, same budget
  facts.resetTransaction(); // RSET / next message
  const second = at('mail');
  expect(second).not.toBe(first);
  expect(second.startsWith('sess-1#')).toBe(true);
});
