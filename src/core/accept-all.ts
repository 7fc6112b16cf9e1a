/**
 * A FilterEngine that continues at every stage and accepts every message with no headers: the
 * hook point the front-ends use until the scoring engine is wired in (src/app/build-engine.ts).
 */
import { randomUUID } from 'node:crypto';
import { CONTINUE, type DataResult, type FilterEngine, type FilterSession, type StageResult } from './engine-api.js';

const accepted: DataResult = Object.freeze({
  verdict: Object.freeze({ action: 'accept' as const, score: 0, required: 0, symbols: Object.freeze([]) }),
  prependHeaders: Object.freeze([]),
  removeHeader: () => false,
});

export function createAcceptAllEngine(opts: { required?: number } = {}): FilterEngine {
  const result: DataResult = opts.required === undefined ? accepted : { ...accepted, verdict: { ...accepted.verdict, required: opts.required } };
  const cont = async (): Promise<StageResult> => CONTINUE;
  return {
    open(_frontend, sessionId): FilterSession {
      return {
        id: sessionId ?? randomUUID(),
        connect: cont,
        helo: cont,
        mail: cont,
        rcpt: cont,
        data: async () => result,
        delivered: () => undefined,
        reset: () => undefined,
        close: () => undefined,
      };
    },
  };
}
