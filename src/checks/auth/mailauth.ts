/**
 * The one door to mailauth for our code: the key cache must be installed before mailauth's
 * verifiers are first evaluated (see mailauth-key-cache.ts), and ES modules evaluate their imports
 * in source order, so this file imports it first. Import mailauth from here, never directly.
 */
import './mailauth-key-cache.js';
import './ipaddr-cidr-fast-path.js';

// The four submodules, not mailauth's index: the index also loads BIMI/VMC (undici,
// @postalsys/vmc) that spamgate never calls — ≈ 8.5 MB of RSS per process (bench/memory-sessions.sh).
export { dkimVerify } from 'mailauth/lib/dkim/verify.js';
export { spf } from 'mailauth/lib/spf/index.js';
export { dmarc } from 'mailauth/lib/dmarc/index.js';
export { arc } from 'mailauth/lib/arc/index.js';
export { withKeyCache } from './mailauth-key-cache.js';
