/**
 * Memoizes the *parsing* of DKIM / ARC public-key records for mailauth 4.13.x.
 *
 * Why: mailauth's `getPublicKey` (lib/tools.js) re-parses the key for every signature of every
 * message — a joi base64 validation, a PEM built by hand, `crypto.createPublicKey` (≈ 120 µs for
 * RSA-2048), then an export back to PEM that `crypto.verify` parses once more. Profiled, that was
 * the largest single item of a message's CPU (bench/README.md, "Where the full stack's CPU goes").
 *
 * What is cached and what is not:
 * - the DNS query still happens on every call, through the resolver mailauth was given (ours
 *   caches answers for their TTL, RFC 1035 §3.2.1), so a rotated or revoked key (`p=` empty,
 *   RFC 6376 §3.6.1) takes effect as soon as DNS says so;
 * - only a successful parse is memoized, keyed by (type, minBitLength, the exact TXT text); on a
 *   miss mailauth's own code parses that same answer, so every error (malformed record, short
 *   key, DNS failure) is mailauth's, and errors are never cached;
 * - the key comes back as a KeyObject (so `crypto.verify` does not parse it again) whose
 *   `toString()` is mailauth's PEM text (dkim-verifier.js reports `publicKey.toString()`);
 * - bounded: least-recently-used entries are dropped past MAX_ENTRIES (a Map keeps insertion
 *   order; a hit re-inserts, as src/dns/cache.ts does).
 *
 * Depends on mailauth 4.13.x internals: lib/dkim/dkim-verifier.js and lib/arc/index.js take
 * `getPublicKey` from `require('../../lib/tools')` when they are first evaluated, so the export is
 * replaced here before they load. src/checks/auth/mailauth.ts imports this module before
 * 'mailauth'; our code imports mailauth only through that file. If the internals differ (no
 * `getPublicKey` export, another major version) or mailauth was loaded first, nothing is patched
 * and mailauth runs as before; `keyCacheStats().active` says which.
 *
 * Only resolvers marked with `withKeyCache()` use the cache: any other mailauth caller in the
 * process (the bench's reference, tests signing fixtures) keeps mailauth's own behaviour.
 */
import crypto from 'node:crypto';
import { requireMailauth, unknownMailauth } from './mailauth-internals.js';

type Resolver = (name: string, rrtype: string) => Promise<unknown>;
interface PublicKeyResult {
  publicKey: string | crypto.KeyObject;
  rr: string;
  modulusLength?: number;
}
type GetPublicKey = (type: string, name: string, minBitLength: number | undefined, resolver: Resolver | undefined) => Promise<PublicKeyResult>;

const MAX_ENTRIES = 1000;
const OPT_IN = Symbol.for('spamgate.mailauthKeyCache');
const INSTALLED = Symbol.for('spamgate.mailauthKeyCache.installed');

const cache = new Map<string, PublicKeyResult>();
const stats = { active: false, reason: '', hits: 0, misses: 0 };

/** Marks a resolver so that keys fetched through it use the cache. */
export function withKeyCache<R extends Resolver>(resolver: R): R {
  (resolver as unknown as Record<symbol, boolean>)[OPT_IN] = true;
  return resolver;
}

export function keyCacheStats(): { readonly active: boolean; readonly reason: string; readonly hits: number; readonly misses: number; readonly size: number } {
  return { ...stats, size: cache.size };
}

export function clearKeyCache(): void {
  cache.clear();
}

function cachingGetPublicKey(original: GetPublicKey): GetPublicKey {
  return async (type, name, minBitLength, resolver) => {
    if (!resolver || !(resolver as unknown as Record<symbol, unknown>)[OPT_IN]) return original(type, name, minBitLength, resolver);
    // The same query mailauth makes, every time (rotation and revocation must be seen at once).
    const list = (await resolver(name, 'TXT')) as unknown[] | undefined;
    // The record text exactly as mailauth reads it: the first TXT record's strings joined.
    const text = list ? ([] as unknown[]).concat(list[0] || []).join('') : '';
    const key = `${type}\0${minBitLength || 1024}\0${text}`;
    const hit = cache.get(key);
    if (hit) {
      stats.hits++;
      cache.delete(key);
      cache.set(key, hit);
      return { ...hit };
    }
    stats.misses++;
    // Miss: mailauth parses the answer we already have; its errors propagate unchanged, uncached.
    const res = await original(type, name, minBitLength, async () => list);
    if (typeof res?.publicKey !== 'string') return res;
    const pem = res.publicKey;
    let keyObject: crypto.KeyObject;
    try {
      keyObject = crypto.createPublicKey(pem);
    } catch {
      return res; // cannot happen for mailauth's own export; if it does, mailauth's answer as is
    }
    Object.defineProperty(keyObject, 'toString', { value: () => pem });
    const entry: PublicKeyResult = { publicKey: keyObject, rr: res.rr, modulusLength: res.modulusLength };
    cache.set(key, entry);
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    return { ...entry };
  };
}

function install(): void {
  try {
    const unknown = unknownMailauth();
    if (unknown) return void (stats.reason = unknown);
    const tools = requireMailauth('mailauth/lib/tools') as Record<string | symbol, unknown>;
    // Another copy of this module (a second build in one process) installed it: that copy counts.
    if (tools[INSTALLED]) return void Object.assign(stats, { active: true, reason: 'installed by another copy' });
    if (typeof tools.getPublicKey !== 'function') return void (stats.reason = 'no getPublicKey export');
    // Too late if the verifiers already took the original (they destructure it when loaded).
    const cached = (m: string) => Boolean(requireMailauth.cache[requireMailauth.resolve(m)]);
    if (cached('mailauth/lib/dkim/dkim-verifier') || cached('mailauth/lib/arc')) return void (stats.reason = 'mailauth was loaded before the key cache');
    tools.getPublicKey = cachingGetPublicKey(tools.getPublicKey as GetPublicKey);
    tools[INSTALLED] = true;
    Object.assign(stats, { active: true, reason: 'installed' });
  } catch (err) {
    stats.reason = `not installed: ${(err as Error).message}`;
  }
}

install();
