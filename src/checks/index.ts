/**
 * Every check factory, in registration order (= the order independent checks are listed; the
 * pipeline still runs a stage's independent checks concurrently). Each feature appends its
 * factory here; a factory returns nothing when its check is disabled by config.
 */
import type { CheckFactory } from '../core/services.js';
import { policyClientCheck } from './connect/policy-client.js';
import { policySenderCheck } from './mail/policy-sender.js';
import { policyDomainCheck } from './rcpt/policy-domain.js';
// DNS-based checks (issue 4)
import { spfCheck } from './mail/spf.js';
import { authCheck } from './data/auth.js';
import { dnsblCheck } from './connect/dnsbl.js';
import { uriblCheck } from './data/uribl.js';
import { heloCheck } from './helo/helo.js';
import { fcrdnsCheck } from './connect/fcrdns.js';
import { senderDomainCheck } from './mail/sender-domain.js';
// Rule files (issue 3)
import { rulesCheck } from './data/rules.js';
// Redis-backed reputation and rate limits (issue 5)
import { reputationCheck } from '../reputation/checks.js';
import { ratelimitCheck } from '../ratelimit/checks.js';

export const checkFactories: CheckFactory[] = [
  policyClientCheck,
  policySenderCheck,
  policyDomainCheck,
  // DNS-based checks (issue 4)
  spfCheck,
  authCheck,
  dnsblCheck,
  uriblCheck,
  heloCheck,
  fcrdnsCheck,
  senderDomainCheck,
  // Admin rule files (issue 3)
  rulesCheck,
  // Redis-backed reputation and rate limits (issue 5)
  ratelimitCheck,
  reputationCheck,
];
