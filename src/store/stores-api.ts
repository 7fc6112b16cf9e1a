/**
 * Shared state behind interfaces, each with a Redis and an embedded in-memory implementation.
 * (The Redis/reputation work owns and fills this file.)
 */
export interface Stores {
  /** Close connections (shutdown, tests). */
  close(): Promise<void>;
}
