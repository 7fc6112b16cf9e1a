/**
 * mailauth 4.13.3 prints `console.log('TOTAL', n, 'EXPECTING', m)` when a body is shorter than
 * l=; that must never reach stdout (it would corrupt `spamgate scan --json`). No sockets: an
 * in-memory resolver for this one unit test.
 */
import crypto from 'node:crypto';
import { jest } from '@jest/globals';
import { dkimSign } from 'mailauth';

test('the TOTAL/EXPECTING debug line is swallowed, other console.log output is not', async () => {
  const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    // Imported after the spy so the filter wraps it.
    const { evaluateDkim } = await import('../../../../src/checks/auth/dkim-eval.js');
    const k = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const body = 'A body that is long enough to be cut.\r\n';
    const msg = Buffer.from(`From: a@example.com\r\nTo: b@example.net\r\nSubject: l\r\n\r\n${body}`);
    const privateKey = k.privateKey.export({ type: 'pkcs8', format: 'pem' });
    const s = await dkimSign(msg, { signatureData: [{ signingDomain: 'example.com', selector: 's', privateKey, maxBodyLength: 30 }] } as never);
    const signed = Buffer.concat([Buffer.from(s.signatures), msg]).toString();
    const cut = Buffer.from(signed.slice(0, signed.length - body.length) + 'short\r\n'); // body now shorter than l=30
    const resolver = async () => [[`v=DKIM1; k=rsa; p=${pub}`]];
    const out = await evaluateDkim(cut, { resolver, minBitLength: 1024 });
    expect(out.signatures.map((x) => x.result)).toEqual(['fail']);
    expect(spy.mock.calls.filter((c) => c[0] === 'TOTAL')).toEqual([]);
    console.log('still printed');
    expect(spy.mock.calls.map((c) => c[0])).toContain('still printed');
  } finally {
    spy.mockRestore();
  }
});
