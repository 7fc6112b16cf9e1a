import { classifyListAnswer, isErrorAnswer, listSymbols } from '../../../src/dns/dnslist.js';

const zen = {
  returnCodes: {
    '127.0.0.2': { symbol: 'SBL', score: 4 },
    '127.0.0.4': { symbol: 'XBL', score: 4 },
    '127.0.0.10': { symbol: 'PBL', score: 2 },
    '127.0.0.11': { symbol: 'PBL', score: 2 },
  },
  errorCodes: [],
};
const surbl = { returnCodes: {}, bitmask: { '8': { symbol: 'PH', score: 7 }, '64': { symbol: 'ABUSE', score: 5 } }, errorCodes: [] };

test.each([
  [['127.0.0.2'], zen, ['SBL'], []],
  [['127.0.0.2', '127.0.0.4', '127.0.0.11'], zen, ['SBL', 'XBL', 'PBL'], []],
  [['127.255.255.254'], zen, [], ['127.255.255.254']],
  [['127.255.255.255', '127.0.0.2'], zen, ['SBL'], ['127.255.255.255']],
  [['127.255.255.252'], zen, [], ['127.255.255.252']],
  [['10.0.0.1'], zen, [], ['10.0.0.1']],
  [['127.0.0.72'], surbl, ['PH', 'ABUSE'], []],
  [['127.0.0.1'], surbl, [], ['127.0.0.1']], // bit 1 = refused
  [['127.0.0.9'], surbl, [], ['127.0.0.9']], // refused bit set along with PH: still an error
] as const)('%j', (answer, spec, hits, errors) => {
  const r = classifyListAnswer(answer, spec as never);
  expect(r.hits.map((h) => h.symbol)).toEqual(hits);
  expect(r.errors).toEqual(errors);
});

test('unmapped listing codes are reported, not scored', () => {
  expect(classifyListAnswer(['127.0.0.30'], zen)).toEqual({ hits: [], errors: [], unmapped: ['127.0.0.30'] });
});

test('per-list error codes (DNSWL 127.0.0.255)', () => {
  expect(isErrorAnswer('127.0.0.255', { errorCodes: ['127.0.0.255'] })).toBe(true);
  expect(isErrorAnswer('127.0.0.255', { errorCodes: [] })).toBe(false);
});

test('symbols are de-duplicated by name', () => {
  expect(listSymbols(zen).map((s) => s.symbol)).toEqual(['SBL', 'XBL', 'PBL']);
});

test('wildcard octets (DNSWL 127.0.<category>.<trust>)', () => {
  const dnswl = { returnCodes: { '127.0.*.3': { symbol: 'HI', score: -3 }, '127.0.*.1': { symbol: 'LOW', score: -1 } }, errorCodes: ['127.0.0.255'] };
  expect(classifyListAnswer(['127.0.15.3'], dnswl).hits.map((h) => h.symbol)).toEqual(['HI']);
  expect(classifyListAnswer(['127.0.2.1'], dnswl).hits.map((h) => h.symbol)).toEqual(['LOW']);
  expect(classifyListAnswer(['127.0.0.255'], dnswl).errors).toEqual(['127.0.0.255']);
});
