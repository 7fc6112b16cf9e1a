import { afterEach, describe, expect, test } from '@jest/globals';
import { buildEngine } from '../../../src/app/build-engine.js';
import { policyClientCheck } from '../../../src/checks/connect/policy-client.js';
import { policySenderCheck } from '../../../src/checks/mail/policy-sender.js';
import { policyDomainCheck } from '../../../src/checks/rcpt/policy-domain.js';
import { parseConfigText } from '../../../src/config/loader.js';
import type { Engine } from '../../../src/core/engine.js';
import { NetworkList, PolicyTable, SenderList } from '../../../src/core/policy.js';
import { REPLIES } from '../../../src/core/replies.js';
import type { Check } from '../../../src/core/types.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { config, sym, testCheck, CLIENT, MESSAGE } from './_helpers.js';

describe('lists', () => {
  test.each([
    ['192.0.2.10', true],
    ['192.0.2.255', true],
    ['::ffff:192.0.2.7', true],
    ['198.51.100.1', false],
    ['198.51.100.9', true],
    ['2001:db8:1::5', true],
    ['2001:db8:2::5', false],
    ['not-an-ip', false],
  ] as const)('network list: %s → %s', (ip, hit) => {
    expect(new NetworkList(['192.0.2.0/24', '198.51.100.9', '2001:db8:1::/48']).has(ip)).toBe(hit);
  });

  test.each([
    ['boss@partner.example', true],
    ['BOSS@Partner.Example', true],
    ['other@partner.example', false],
    ['x@exact.example', true],
    ['x@sub.exact.example', false],
    ['x@at.example', true],
    ['x@tree.example', true],
    ['x@deep.sub.tree.example', true],
    ['x@nottree.example', false],
    ['', false],
  ] as const)('sender list: %j → %s', (addr, hit) => {
    expect(new SenderList(['boss@partner.example', 'exact.example', '@at.example', '*.tree.example']).has(addr)).toBe(hit);
  });
});

const POLICY_YAML = `
hostname: mx.isp.example
actions: { greylist: 4, tag: 6, reject: 15 }
policy:
  blockIps: [203.0.113.0/24]
  allowSenders: [friend@allowed.example]
  domains:
    strict.example:
      actions: { tag: 3, reject: 5 }
      disabledChecks: [noisy]
    "*.lax.example":
      actions: { greylist: 100, reject: 50 }
      blockSenders: [pest@annoying.example]
      allowIps: [198.51.100.0/24]
`;

describe('PolicyTable', () => {
  test('per-domain thresholds and lookup (exact, then *.parent, else global)', () => {
    const t = new PolicyTable(config(POLICY_YAML));
    expect(t.forRecipient('u@strict.example')).toMatchObject({ key: 'strict.example', thresholds: { greylist: 4, tag: 3, reject: 5 } });
    expect(t.forRecipient('u@STRICT.example')).toMatchObject({ key: 'strict.example' });
    expect(t.forRecipient('u@sub.strict.example').key).toBe('*');
    expect(t.forRecipient('u@lax.example')).toMatchObject({ key: '*.lax.example', thresholds: { greylist: 100, tag: 6, reject: 50 } });
    expect(t.forRecipient('u@a.b.lax.example').key).toBe('*.lax.example');
    expect(t.forRecipient('u@other.example')).toMatchObject({ key: '*', thresholds: { greylist: 4, tag: 6, reject: 15 } });
    expect([...t.forRecipient('u@strict.example').disabledChecks]).toEqual(['noisy']);
  });
});

describe('policy in the engine', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  /** The shipped policy checks plus a test check scoring `score` at data, and a `noisy` one at mail. */
  async function build(yaml: string, score = 4): Promise<Engine> {
    const extra = (): Check[] => [
      testCheck('spammy', 'data', [sym('SPAMMY', score)]),
      testCheck('noisy', 'mail', [sym('NOISY', 1)]),
    ];
    engine = await buildEngine(parseConfigText(yaml, 'test.yaml'), { log: silentLogger, metrics: createMetrics(), factories: [policyClientCheck, policySenderCheck, policyDomainCheck, extra] });
    return engine;
  }

  test('per-domain thresholds decide, and a domain-disabled check does not count', async () => {
    const e = await build(POLICY_YAML, 4);
    const run = async (rcpt: string) => {
      const s = e.open('scan');
      await s.connect(CLIENT);
      await s.mail('x@sender.example', {});
      expect(await s.rcpt(rcpt)).toEqual({ action: 'continue' });
      return (await s.data(MESSAGE)).verdict;
    };
    expect(await run('u@other.example')).toMatchObject({ action: 'greylist', score: 5, required: 6 }); // global: 4 + NOISY 1
    expect(await run('u@strict.example')).toMatchObject({ action: 'tag', score: 4, required: 3 }); // NOISY dropped; 4 ≥ tag 3
    expect(await run('u@x.lax.example')).toMatchObject({ action: 'accept', score: 5, required: 6 }); // no greylist band
  });

  test('one policy per transaction: a recipient of another policy gets 452 4.5.3', async () => {
    const e = await build(POLICY_YAML);
    const s = e.open('smtp');
    await s.connect(CLIENT);
    await s.mail('x@sender.example', {});
    expect(await s.rcpt('a@strict.example')).toEqual({ action: 'continue' });
    expect(await s.rcpt('b@strict.example')).toEqual({ action: 'continue' });
    expect(await s.rcpt('c@other.example')).toEqual({ action: 'tempfail', reason: 'recipient of another domain policy', reply: REPLIES.otherPolicy });
    expect(await s.rcpt('d@x.lax.example')).toMatchObject({ reply: { code: 452, enhanced: '4.5.3' } });
    const r = await s.data(MESSAGE);
    expect(r.verdict.required).toBe(3);
    // The client sends the deferred recipients again in a new transaction.
    s.reset();
    await s.mail('x@sender.example', {});
    expect(await s.rcpt('c@other.example')).toEqual({ action: 'continue' });
    expect((await s.data(MESSAGE)).verdict.required).toBe(6);
  });

  test('global block list at connect: forced reject with the policy reply, and it persists', async () => {
    const e = await build(POLICY_YAML);
    const s = e.open('smtp');
    const d = await s.connect({ ...CLIENT, ip: '203.0.113.5' });
    expect(d).toEqual({ action: 'reject', reason: 'client address is on the block list', reply: REPLIES.policyBlocked });
    expect(await s.helo('x')).toEqual(d);
    await s.mail('x@sender.example', {});
    await s.rcpt('u@other.example');
    const v = (await s.data(MESSAGE)).verdict;
    expect(v).toMatchObject({ action: 'reject', forced: { by: 'policy_client' } });
    expect(v.symbols.map((x) => x.name)).toContain('BLOCKLIST_IP');
  });

  test('global sender allow list forces accept despite a reject score', async () => {
    const e = await build(POLICY_YAML, 40);
    const s = e.open('smtp');
    await s.connect(CLIENT);
    expect(await s.mail('friend@allowed.example', {})).toEqual({ action: 'continue' });
    await s.rcpt('u@other.example');
    const r = await s.data(MESSAGE);
    expect(r.verdict).toMatchObject({ action: 'accept', score: 41, forced: { by: 'policy_sender', reason: 'sender is on the allow list' } });
    expect(r.prependHeaders[0]).toBe('X-Spam-Flag: NO');
  });

  test('domain block list refuses only that recipient; domain allow list forces accept', async () => {
    const e = await build(POLICY_YAML, 40);
    const s = e.open('smtp');
    await s.connect(CLIENT);
    await s.mail('pest@annoying.example', {});
    expect(await s.rcpt('u@x.lax.example')).toEqual({ action: 'reject', reason: 'sender is on the block list of *.lax.example', reply: REPLIES.policyBlocked });
    // Not fixed to the refused recipient's policy: another domain is still welcome.
    expect(await s.rcpt('u@other.example')).toEqual({ action: 'continue' });
    const v = (await s.data(MESSAGE)).verdict;
    expect(v.symbols.map((x) => x.name)).not.toContain('DOMAIN_BLOCKLIST_SENDER');
    expect(v.action).toBe('reject'); // by score 41 under the global policy

    const s2 = e.open('smtp');
    await s2.connect({ ...CLIENT, ip: '198.51.100.20' });
    await s2.mail('x@sender.example', {});
    expect(await s2.rcpt('u@x.lax.example')).toEqual({ action: 'continue' });
    expect((await s2.data(MESSAGE)).verdict).toMatchObject({ action: 'accept', forced: { by: 'policy_domain' } });
  });

  test('a check the recipient domain disables neither scores nor forces', async () => {
    const yaml = `policy: { domains: { free.example: { disabledChecks: [policy_sender, noisy] } }, blockSenders: [x@sender.example] }`;
    const e = await build(yaml, 0);
    const s = e.open('smtp');
    await s.connect(CLIENT);
    expect(await s.mail('x@sender.example', {})).toMatchObject({ action: 'reject' }); // recipient not known yet
    expect(await s.rcpt('u@other.example')).toMatchObject({ action: 'reject' });
    expect(await s.rcpt('u@free.example')).toEqual({ action: 'continue' });
    const v = (await s.data(MESSAGE)).verdict;
    expect(v).toMatchObject({ action: 'accept', score: 0 });
    expect(v.symbols.map((x) => x.name)).toEqual(['SPAMMY']);
  });

  test('early reject at RCPT only when configured and the evidence so far reaches reject', async () => {
    const yaml = `scores: { NOISY: 20 }\nactions: { earlyReject: true }\npolicy: { domains: { lax.example: { actions: { reject: 50 } } } }`;
    const e = await build(yaml);
    const s = e.open('smtp');
    await s.connect(CLIENT);
    await s.mail('x@sender.example', {});
    expect(await s.rcpt('u@other.example')).toEqual({ action: 'reject', reason: 'spam score 20 reaches 15' });
    expect(await s.rcpt('u@lax.example')).toEqual({ action: 'continue' }); // its reject threshold is 50
    await e.close();

    const e2 = await build(`scores: { NOISY: 20 }`);
    const s2 = e2.open('smtp');
    await s2.connect(CLIENT);
    await s2.mail('x@sender.example', {});
    expect(await s2.rcpt('u@other.example')).toEqual({ action: 'continue' }); // decided after DATA
    expect((await s2.data(MESSAGE)).verdict.action).toBe('reject');
    await e2.close();
    engine = undefined;
  });
});
