/**
 * The built CLI (`node bin/spamgate.js serve --config FILE`, after `npm run build`) as a child
 * process whose JSON log lines tests can wait for.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/spamgate.js');

export type LogLine = Record<string, unknown>;

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];
  readonly exited: Promise<number | null>;

  static start(configFile: string): DaemonProcess {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    return new DaemonProcess(spawn(process.execPath, [BIN, 'serve', '--config', configFile], { cwd: ROOT }));
  }

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buf = '';
    proc.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let obj: LogLine;
        try {
          obj = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        this.lines.push(obj);
        this.waiters = this.waiters.filter((w) => (w.pred(obj) ? (w.resolve(obj), false) : true));
      }
    });
    proc.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((r) =>
      proc.once('exit', (code) => {
        // A daemon that died cannot log what a test waits for: fail with its stderr, not a timeout.
        for (const w of this.waiters.splice(0)) w.reject(new Error(`spamgate exited (${code}) first: ${this.stderr}`));
        r(code);
      }),
    );
  }

  /** The first line (already seen or future) matching pred. */
  waitFor(pred: (l: LogLine) => boolean): Promise<LogLine> {
    const hit = this.lines.find(pred);
    if (hit) return Promise.resolve(hit);
    return this.next(pred);
  }

  /** The next line from now on matching pred. */
  next(pred: (l: LogLine) => boolean): Promise<LogLine> {
    if (this.proc.exitCode !== null) return Promise.reject(new Error(`spamgate exited (${this.proc.exitCode}): ${this.stderr}`));
    return new Promise((resolve, reject) => this.waiters.push({ pred, resolve, reject }));
  }

  /** Wait until `count` lines match pred (seen so far or future). */
  async waitForCount(pred: (l: LogLine) => boolean, count: number): Promise<LogLine[]> {
    while (this.lines.filter(pred).length < count) await this.next(pred);
    return this.lines.filter(pred);
  }

  /**
   * The exit code, or a failure naming what the daemon logged last if it has not exited within
   * `ms` (a hung shutdown then fails with its own story, not the test's timeout).
   */
  async exitWithin(ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const tail = this.lines.slice(-15).map((l) => JSON.stringify(l)).join('\n');
        reject(new Error(`spamgate did not exit within ${ms} ms; last log lines:\n${tail}\nstderr: ${this.stderr}`));
      }, ms);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}
