/**
 * The commented DNS-check example in config/spamgate.yaml must stay valid: uncomment it and run it
 * through the real schema, then build the list checks' symbols from it.
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import { checksSection } from '../../../src/config/sections/checks.js';
import { derivedSymbols } from '../../../src/checks/connect/dnsbl.js';

function example(): unknown {
  const text = fs.readFileSync('config/spamgate.yaml', 'utf8');
  const block = text.slice(text.indexOf('# --- begin DNS-based checks'), text.indexOf('# --- end DNS-based checks'));
  const lines = block.split('\n');
  const start = lines.findIndex((l) => l === '# checks:');
  return parse(lines.slice(start).map((l) => l.replace(/^# ?/, '')).join('\n'));
}

test('the shipped example parses with the checks schema', () => {
  const parsed = checksSection.parse((example() as { checks: unknown }).checks);
  expect(parsed.dnsbl.lists.map((l) => l.name)).toEqual(['ZEN', 'SPAMCOP', 'DNSWL']);
  expect(parsed.uribl.lists.map((l) => l.name)).toEqual(['DBL', 'SURBL', 'URIBL']);
  const zen = parsed.dnsbl.lists[0]!;
  expect(zen.returnCodes['127.0.0.4']).toEqual({ symbol: 'RBL_ZEN_XBL', score: 4 });
  const names = [...parsed.dnsbl.lists.flatMap((l) => derivedSymbols(l, 'network')), ...parsed.uribl.lists.flatMap((l) => derivedSymbols(l, 'phishing', 'URIBL'))].map(
    (s) => s.name,
  );
  expect(new Set(names).size).toBe(names.length); // no symbol declared twice
});

test('the shipped defaults keep public lists off', () => {
  const text = fs.readFileSync('config/spamgate.yaml', 'utf8');
  expect(text).not.toMatch(/^\s+zone:/m);
});
