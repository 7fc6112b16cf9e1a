/**
 * `policy_domain` (rcpt): the recipient domain's own allow/block lists (`policy.domains.<d>.*`).
 * A block hit refuses only this recipient (the engine drops its evidence); an allow hit forces the
 * transaction, whose recipients all share this domain's policy (core/policy.ts), to accept.
 */
import { REPLIES } from '../../core/replies.js';
import { PolicyTable } from '../../core/policy.js';
import type { CheckFactory } from '../../core/services.js';
import type { Check } from '../../core/types.js';

export const policyDomainCheck: CheckFactory = ({ config }) => {
  const table = new PolicyTable(config);
  const check: Check = {
    name: 'policy_domain',
    stage: 'rcpt',
    timeoutMs: 100,
    symbols: [
      { name: 'DOMAIN_ALLOWLIST_IP', score: 0, description: "Client address is on the recipient domain's allow list (forces accept)", category: 'policy' },
      { name: 'DOMAIN_BLOCKLIST_IP', score: 0, description: "Client address is on the recipient domain's block list (refuses the recipient)", category: 'policy' },
      { name: 'DOMAIN_ALLOWLIST_SENDER', score: 0, description: "Envelope sender is on the recipient domain's allow list (forces accept)", category: 'policy' },
      { name: 'DOMAIN_BLOCKLIST_SENDER', score: 0, description: "Envelope sender is on the recipient domain's block list (refuses the recipient)", category: 'policy' },
    ],
    run(ctx) {
      const rcpt = ctx.session.currentRcpt;
      if (rcpt === undefined) return;
      const p = table.forRecipient(rcpt);
      const { allowIps, blockIps, allowSenders, blockSenders } = p.lists;
      const ip = ctx.session.client.ip;
      const from = ctx.session.envelope.mailFrom;
      if (blockIps.has(ip)) {
        ctx.emit('DOMAIN_BLOCKLIST_IP', [p.key, ip]);
        ctx.force('reject', `client address is on the block list of ${p.key}`, REPLIES.policyBlocked);
      } else if (blockSenders.has(from)) {
        ctx.emit('DOMAIN_BLOCKLIST_SENDER', [p.key, from]);
        ctx.force('reject', `sender is on the block list of ${p.key}`, REPLIES.policyBlocked);
      } else if (allowIps.has(ip)) {
        ctx.emit('DOMAIN_ALLOWLIST_IP', [p.key, ip]);
        ctx.force('accept', `client address is on the allow list of ${p.key}`);
      } else if (allowSenders.has(from)) {
        ctx.emit('DOMAIN_ALLOWLIST_SENDER', [p.key, from]);
        ctx.force('accept', `sender is on the allow list of ${p.key}`);
      }
    },
  };
  return check;
};
