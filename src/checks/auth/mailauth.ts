/**
 * The one door to mailauth for our code: the key cache must be installed before mailauth's
 * verifiers are first evaluated (see mailauth-key-cache.ts). Import mailauth from here, never
 * directly.
 *
 * mailauth is CommonJS, and Node (20.20, measured) runs a CommonJS module that an ES module imports
 * statically while it links the module graph — before the body of any ES module, including one
 * imported earlier in source order. With `export { … } from 'mailauth/…'` here the verifiers were
 * loaded before mailauth-key-cache.ts ran, so the cache never installed (keyCacheStats().reason
 * "mailauth was loaded before the key cache") and every signature re-parsed its key. So the
 * submodules are required from this module's body, which runs after its static imports.
 */
import { createRequire } from 'node:module';
import './mailauth-key-cache.js';
import './ipaddr-cidr-fast-path.js';
import './mailauth-header-scan.js';

const require = createRequire(import.meta.url);

// The four submodules, not mailauth's index: the index also loads BIMI/VMC (undici,
// @postalsys/vmc) that spamgate never calls — ≈ 8.5 MB of RSS per process (bench/memory-sessions.sh).
export const { dkimVerify } = require('mailauth/lib/dkim/verify.js') as typeof import('mailauth/lib/dkim/verify.js');
export const { spf } = require('mailauth/lib/spf/index.js') as typeof import('mailauth/lib/spf/index.js');
export const { dmarc } = require('mailauth/lib/dmarc/index.js') as typeof import('mailauth/lib/dmarc/index.js');
export const { arc } = require('mailauth/lib/arc/index.js') as typeof import('mailauth/lib/arc/index.js');
export { withKeyCache } from './mailauth-key-cache.js';
