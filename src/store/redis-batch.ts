/**
 * Batches the store operations issued in one tick into one `sgOps` script call (redis-scripts.ts
 * STORE_OPS): the checks of one SMTP stage run concurrently and each makes its store call in the
 * same microtask sweep, so a stage (connect: rate-limit buckets + IP/network reputation; MAIL:
 * sender bucket + HELO and sender-domain reputation; after the transaction: reputation learning +
 * history) is one command instead of one per check or per key. Operations of concurrent
 * sessions issued in the same tick join the same call.
 *
 * Why not ioredis auto-pipelining alone: it batches *commands* into one write, but each command
 * still costs its own Command, promise chain and reply, and each batch a Pipeline object and a
 * setImmediate hop (bench/redis-stages.js; measured on this project's VM: one command per round
 * trip ≈ 30 µs of client CPU and 6 KB of heap, two auto-pipelined script commands ≈ 110 µs and
 * 17 KB). The batch is flushed on process.nextTick (after the current microtasks, before any I/O)
 * and sent directly (`autoPipeliningIgnoredCommands`, redis-client.ts).
 *
 * Failure: the batch is one command, so a connection error or the command deadline fails every
 * operation in it (each caller's StoreGuard turns that into its own StoreUnavailableError).
 *
 * Cluster: every operation's keys share one hash tag (the stores split calls by tag first), and
 * operations are grouped by tag here: one call per slot group.
 */
import type { ScriptedRedis } from './redis-client.js';

export type OpCode = 'rg' | 'rr' | 'tb' | 'gl' | 'hp';

interface PendingOp {
  readonly code: OpCode;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** The hash tag Redis Cluster hashes (first `{…}` with content), or the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

export class OpBatcher {
  private pending: PendingOp[] = [];
  private scheduled = false;

  constructor(
    private readonly r: ScriptedRedis,
    private readonly cluster: boolean,
  ) {}

  /** Queue one operation; resolves with its reply. All keys of one operation must share a hash tag in a Cluster. */
  run<T>(code: OpCode, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (args.some((a) => typeof a === 'string' && a.includes('\n'))) {
        reject(new Error(`store op ${code}: an argument holds a newline`));
        return;
      }
      this.pending.push({ code, keys, args, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    const ops = this.pending;
    this.pending = [];
    this.scheduled = false;
    if (!this.cluster) {
      this.send(ops);
      return;
    }
    const byTag = new Map<string, PendingOp[]>();
    for (const op of ops) {
      const tag = hashTagOf(op.keys[0] ?? '');
      const g = byTag.get(tag);
      if (g) g.push(op);
      else byTag.set(tag, [op]);
    }
    for (const g of byTag.values()) this.send(g);
  }

  private send(ops: readonly PendingOp[]): void {
    const keys: string[] = [];
    // All arguments in one newline-separated string (STORE_OPS layout): values are numbers, op
    // codes and JSON, none of which holds a raw newline (run() refuses one that does).
    const argv: (string | number)[] = [ops.length];
    for (const op of ops) {
      for (const k of op.keys) keys.push(k);
      argv.push(op.code, op.keys.length, op.args.length);
      for (const a of op.args) argv.push(a);
    }
    this.r.sgOps(keys.length, ...keys, argv.join('\n')).then(
      (replies) => {
        for (let i = 0; i < ops.length; i++) ops[i]!.resolve(replies[i]);
      },
      (err: unknown) => {
        for (const op of ops) op.reject(err);
      },
    );
  }
}
