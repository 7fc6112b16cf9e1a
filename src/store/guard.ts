/**
 * Every Redis store call goes through here: a hard deadline (ioredis `commandTimeout` already
 * bounds each command; this also bounds a call made of several), error → StoreUnavailableError,
 * and the store metrics. Fail open, fast (ARCHITECTURE failure policy; FIELD-NOTES §7).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { StoreUnavailableError, type StoreName } from './stores-api.js';

/** Slack over the per-command timeout before we give up on a whole call. */
const DEADLINE_SLACK_MS = 20;

export interface StoreDeps {
  readonly metrics?: Pick<Metrics, 'storeErrors' | 'storeDuration'>;
  readonly log?: Logger;
}

export class StoreGuard {
  private lastLog = 0;
  constructor(
    private readonly timeoutMs: number,
    private readonly deps: StoreDeps,
  ) {}

  async call<T>(store: StoreName, op: string, fn: () => Promise<T>): Promise<T> {
    const stop = this.deps.metrics?.storeDuration.startTimer({ store, op });
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`deadline ${this.timeoutMs} ms`)), this.timeoutMs + DEADLINE_SLACK_MS);
        timer.unref();
      });
      return await Promise.race([Promise.resolve().then(fn), deadline]);
    } catch (e) {
      this.deps.metrics?.storeErrors.inc({ store, op });
      const err = e instanceof StoreUnavailableError ? e : new StoreUnavailableError(store, op, e);
      // Redis down means this fires per message: log at most once a second.
      const now = Date.now();
      if (now - this.lastLog > 1000) {
        this.lastLog = now;
        this.deps.log?.warn({ store, op, err: err.message }, 'store call failed');
      }
      throw err;
    } finally {
      clearTimeout(timer);
      stop?.();
    }
  }
}
