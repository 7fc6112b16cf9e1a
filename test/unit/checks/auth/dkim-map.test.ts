import { mapDkimResult } from '../../../../src/checks/auth/dkim-eval.js';

const r = (result: string, comment?: string, underSized?: number) => ({
  signingDomain: 'Example.com',
  selector: 's',
  signature: 'abcdefghijkl',
  status: { result, comment, underSized },
});

test.each([
  [r('pass'), 'pass', undefined],
  [r('pass', undefined, 25), 'policy', true], // l= left 25 bytes unsigned: no credit
  [r('fail', 'bad signature'), 'fail', undefined],
  [r('neutral', 'body hash did not verify'), 'fail', undefined],
  [r('neutral', 'no key'), 'permerror', undefined],
  [r('neutral', 'invalid public key'), 'permerror', undefined],
  [r('neutral', 'expired'), 'neutral', undefined],
  [r('temperror', 'DNS failure: ETIMEOUT'), 'temperror', undefined],
  [r('policy'), 'policy', undefined],
] as const)('%j → %s', (raw, result, partial) => {
  const m = mapDkimResult(raw)!;
  expect(m.result).toBe(result);
  expect(m.partialBody).toBe(partial);
  expect(m.domain).toBe('example.com');
  expect(m.b).toBe('abcdefgh');
});

test("mailauth's no-signature placeholder maps to nothing", () => {
  expect(mapDkimResult({ status: { result: 'none' } })).toBeUndefined();
});
