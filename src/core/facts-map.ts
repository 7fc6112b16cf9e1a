/**
 * Facts in two layers: connection-level facts (published at connect/helo, e.g. rDNS) live for the
 * whole session; transaction-level facts (mail/rcpt/data, e.g. SPF, DKIM) are forgotten on RSET
 * (RFC 5321 §4.1.1.5) or at the end of a transaction.
 */
import type { FactKey, Facts } from './types.js';

export class LayeredFacts implements Facts {
  private readonly session = new Map<string, unknown>();
  private readonly txn = new Map<string, unknown>();
  /** Where `set` writes: the session layer during connect/helo, else the transaction layer. */
  sessionLayer = true;

  get<T>(key: FactKey<T>): T | undefined {
    return (this.txn.has(key.name) ? this.txn.get(key.name) : this.session.get(key.name)) as T | undefined;
  }

  set<T>(key: FactKey<T>, value: T): void {
    (this.sessionLayer ? this.session : this.txn).set(key.name, value);
  }

  /** Forget the transaction's facts. */
  resetTransaction(): void {
    this.txn.clear();
  }

  /** A read-only copy that later resets do not touch (for observers that run after the transaction). */
  snapshot(): Facts {
    const copy = new Map<string, unknown>([...this.session, ...this.txn]);
    return {
      get: <T>(key: FactKey<T>) => copy.get(key.name) as T | undefined,
      set: () => {
        throw new Error('facts are read-only after the transaction');
      },
    };
  }

  /** Plain copy of every fact, for observers and the scan CLI. */
  toObject(): Record<string, unknown> {
    return Object.fromEntries([...this.session, ...this.txn]);
  }
}
