/**
 * `policy_sender` (mail): the global envelope-sender allow/block lists (`policy.allowSenders`,
 * `policy.blockSenders`; entry forms in core/policy.ts). The envelope sender is forgeable, so an
 * allow entry trusts whoever claims it: prefer network entries for allow-listing.
 */
import { REPLIES } from '../../core/replies.js';
import { PolicyTable } from '../../core/policy.js';
import type { CheckFactory } from '../../core/services.js';
import type { Check } from '../../core/types.js';

export const policySenderCheck: CheckFactory = ({ config }) => {
  const { globalLists } = new PolicyTable(config);
  const check: Check = {
    name: 'policy_sender',
    stage: 'mail',
    timeoutMs: 100,
    symbols: [
      { name: 'ALLOWLIST_SENDER', score: 0, description: 'Envelope sender is on the global allow list (forces accept)', category: 'policy' },
      { name: 'BLOCKLIST_SENDER', score: 0, description: 'Envelope sender is on the global block list (forces reject)', category: 'policy' },
    ],
    run(ctx) {
      const from = ctx.session.envelope.mailFrom;
      if (globalLists.blockSenders.has(from)) {
        ctx.emit('BLOCKLIST_SENDER', [from]);
        ctx.force('reject', 'sender is on the block list', REPLIES.policyBlocked);
      } else if (globalLists.allowSenders.has(from)) {
        ctx.emit('ALLOWLIST_SENDER', [from]);
        ctx.force('accept', 'sender is on the allow list');
      }
    },
  };
  return check;
};
