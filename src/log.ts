/** Structured JSON logs (pino). One logger per process; children carry `session`, `check` etc. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info', dest?: DestinationStream): Logger {
  return pino({ level, base: { svc: 'spamgate' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that writes nothing, for tests and the scan CLI. */
export const silentLogger: Logger = pino({ level: 'silent' });
