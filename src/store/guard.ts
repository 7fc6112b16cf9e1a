/**
 * Every Redis store call goes through here: the deadline SMTP stages see (`commandTimeoutMs`; a
 * call may be several commands), error → StoreUnavailableError,
 * the store metrics, and a circuit breaker. Fail open, fast (ARCHITECTURE failure policy;
 * FIELD-NOTES §7).
 *
 * Circuit breaker: after `failures` failed calls in a row, calls fail at once for `cooldownMs`
 * (no 100 ms wait per SMTP stage while Redis is stalled, and no backlog of commands piling up
 * in the client for a server that does not answer); then one call probes — success closes the
 * circuit, failure reopens it. A successful `ready()` PING closes it too.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { StoreUnavailableError, type StoreName } from './stores-api.js';

/**
 * The deadline yields to I/O once before it fails the call. A busy event loop (hundreds of
 * sessions) runs expired timers *before* it reads the sockets that became readable meanwhile
 * (Node's loop: timers → poll → check), so a plain timer failed calls whose reply had arrived in
 * time and was waiting in the socket — under load the engine lost reputation and rate-limit
 * evidence (`*_UNAVAILABLE`, bench/README "Full stack") while Redis was fine. Deferring the
 * failure to the check phase (setImmediate) lets the poll phase read that reply first; a Redis
 * that really did not answer still fails within the deadline plus one loop turn.
 */
function deadlineAfter(ms: number, fire: () => void): NodeJS.Timeout {
  const t = setTimeout(() => setImmediate(fire), ms);
  t.unref();
  return t;
}

export interface StoreDeps {
  readonly metrics?: Pick<Metrics, 'storeErrors' | 'storeDuration'>;
  readonly log?: Logger;
}

export interface BreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
  /** Wall clock for the breaker (tests inject one). */
  readonly now: () => number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failures: 5, cooldownMs: 1000, now: Date.now };

export class StoreGuard {
  private lastLog = 0;
  private consecutive = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly deps: StoreDeps,
    private readonly breaker: BreakerOptions = DEFAULT_BREAKER,
  ) {}

  /** Open = calls fail at once. */
  get open(): boolean {
    return this.breaker.now() < this.openUntil;
  }

  /** The backend answered (ready() PING): close the circuit. */
  reset(): void {
    this.consecutive = 0;
    this.openUntil = 0;
    this.probing = false;
  }

  async call<T>(store: StoreName, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.open) {
      this.deps.metrics?.storeErrors.inc({ store, op });
      throw new StoreUnavailableError(store, op, new Error('circuit open after repeated failures'));
    }
    // First call after the cooldown: a probe. Its failure reopens the circuit at once.
    if (this.openUntil !== 0) {
      this.probing = true;
      this.openUntil = 0;
    }
    const stop = this.deps.metrics?.storeDuration.startTimer({ store, op });
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = deadlineAfter(this.timeoutMs, () => reject(new Error(`deadline ${this.timeoutMs} ms`)));
      });
      const result = await Promise.race([Promise.resolve().then(fn), deadline]);
      this.consecutive = 0;
      this.probing = false;
      return result;
    } catch (e) {
      this.deps.metrics?.storeErrors.inc({ store, op });
      const err = e instanceof StoreUnavailableError ? e : new StoreUnavailableError(store, op, e);
      this.consecutive++;
      if (this.probing || this.consecutive >= this.breaker.failures) {
        this.openUntil = this.breaker.now() + this.breaker.cooldownMs;
        this.consecutive = 0;
        this.probing = false;
      }
      // Redis down means this fires per message: log at most once a second.
      const now = Date.now();
      if (now - this.lastLog > 1000) {
        this.lastLog = now;
        this.deps.log?.warn({ store, op, err: err.message, circuitOpen: this.open }, 'store call failed');
      }
      throw err;
    } finally {
      clearTimeout(timer);
      stop?.();
    }
  }
}
