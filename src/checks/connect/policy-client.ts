/**
 * `policy_client` (connect): the global client-network allow/block lists (`policy.allowIps`,
 * `policy.blockIps`). An allow-listed client is forced to accept, a block-listed one to reject
 * (block beats allow: the strictest forced action wins, core/verdict.ts). Both are rare and logged.
 */
import { REPLIES } from '../../core/replies.js';
import { PolicyTable } from '../../core/policy.js';
import type { CheckFactory } from '../../core/services.js';
import type { Check } from '../../core/types.js';

export const policyClientCheck: CheckFactory = ({ config }) => {
  const { globalLists } = new PolicyTable(config);
  const check: Check = {
    name: 'policy_client',
    stage: 'connect',
    timeoutMs: 100,
    symbols: [
      { name: 'ALLOWLIST_IP', score: 0, description: 'Client address is on the global allow list (forces accept)', category: 'policy' },
      { name: 'BLOCKLIST_IP', score: 0, description: 'Client address is on the global block list (forces reject)', category: 'policy' },
    ],
    run(ctx) {
      const ip = ctx.session.client.ip;
      if (globalLists.blockIps.has(ip)) {
        ctx.emit('BLOCKLIST_IP', [ip]);
        ctx.force('reject', 'client address is on the block list', REPLIES.policyBlocked);
      } else if (globalLists.allowIps.has(ip)) {
        ctx.emit('ALLOWLIST_IP', [ip]);
        ctx.force('accept', 'client address is on the allow list');
      }
    },
  };
  return check;
};
