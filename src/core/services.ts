/**
 * What a check factory receives: its typed config slice comes from `config.checks[name]`, and the
 * shared services (DNS, stores, metrics, logging). No check reads files or the environment itself.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DnsResolver } from '../dns/resolver-api.js';
import type { Stores } from '../store/stores-api.js';
import type { Check } from './types.js';

export interface CheckServices {
  readonly config: Config;
  /** Directory the config file lives in; relative paths in it resolve against this. */
  readonly baseDir: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly dns: DnsResolver;
  readonly stores: Stores;
}

/** Each check module exports one factory; it returns no check when disabled by config. */
export type CheckFactory = (services: CheckServices) => Check | readonly Check[] | undefined;
