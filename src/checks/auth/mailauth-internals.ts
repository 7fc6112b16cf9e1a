/**
 * The one place that says which mailauth our speed patches (mailauth-key-cache.ts,
 * mailauth-header-scan.ts) know the internals of: 4.13.x, the version package.json pins
 * (`~4.13.3`; 5.x needs Node 22, FIELD-NOTES §4). On any other version they patch nothing.
 */
import { createRequire } from 'node:module';

/** `require` resolving from our code, for mailauth's CommonJS internals. */
export const requireMailauth = createRequire(import.meta.url);

/** Why mailauth's internals must not be patched, or undefined for a known version. */
export function unknownMailauth(): string | undefined {
  const version = String((requireMailauth('mailauth/package.json') as { version?: string }).version ?? '');
  return /^4\.13\./.test(version) ? undefined : `mailauth ${version}: internals not known`;
}
