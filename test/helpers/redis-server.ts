/**
 * Real redis-server processes for tests: a single server on a free loopback port, or a 3-master
 * Redis Cluster. No persistence (`--save '' --appendonly no`), files in a temp dir, killed on stop.
 * Only loopback addresses are ever used.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** A free TCP port on 127.0.0.1 (and, for cluster nodes, its bus port +10000 too). */
export async function freePort(withBusPort = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await listenOnce(0);
    if (!withBusPort) return p;
    if (p + 10000 <= 65535 && (await canListen(p + 10000))) return p;
  }
  throw new Error('no free port pair found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

/** Send one inline command and read one reply line (no client library, so no retries of its own). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis ${port}: no reply to ${command}`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(command + '\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      // Bulk replies: wait for the payload after the length line.
      const m = /^\$(\d+)\r\n/.exec(buf);
      if (m ? buf.length >= m[0].length + Number(m[1]) + 2 : buf.includes('\r\n')) {
        clearTimeout(timer);
        sock.end();
        resolve(buf);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function waitFor(fn: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class RedisExitedEarly extends Error {}

export class RedisServer {
  private proc?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  static async start(extraArgs: readonly string[] = [], port?: number): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-redis-'));
    // A free port can be taken by another test between freePort() and redis-server's bind:
    // then redis-server exits at once and we try a fresh port (unless the caller fixed one).
    for (let attempt = 0; ; attempt++) {
      const s = new RedisServer(port ?? (await freePort(extraArgs.includes('--cluster-enabled'))), dir, extraArgs);
      try {
        await s.spawn();
        return s;
      } catch (e) {
        if (port !== undefined || attempt >= 4 || !(e instanceof RedisExitedEarly)) throw e;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    args.push('--enable-debug-command', 'local');
    this.proc = spawn('redis-server', [...args, ...this.extraArgs], { stdio: 'ignore' });
    const proc = this.proc;
    const exited = new Promise<never>((_, rej) => proc.once('exit', () => rej(new RedisExitedEarly(`redis-server :${this.port} exited at start`))));
    exited.catch(() => undefined);
    await Promise.race([
      waitFor(async () => proc.exitCode === null && proc.signalCode === null && (await rawCommand(this.port, 'PING', 300)).startsWith('+PONG'), `redis-server :${this.port}`),
      exited,
    ]);
  }

  /** SIGSTOP: the socket stays open but nothing answers (a stalled Redis). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Kill hard (connections drop, then refused). */
  async kill(): Promise<void> {
    const p = this.proc;
    // A process killed by a signal has exitCode null and signalCode set.
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGCONT');
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  }

  /** Start again on the same port (clients reconnect by themselves). */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Redis server for a test: $REDIS_URL when set (not stopped), else a fresh redis-server. */
export async function startRedis(): Promise<{ url: string; server?: RedisServer; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const server = await RedisServer.start();
  return { url: server.url, server, stop: () => server.stop() };
}

/** Three masters, slots split by `redis-cli --cluster create`, waiting for `cluster_state:ok` everywhere. */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        nodes.push(await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000']));
      }
      await execFileP('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 15_000,
      });
      for (const n of nodes) {
        await waitFor(async () => (await rawCommand(n.port, 'CLUSTER INFO')).includes('cluster_state:ok'), `cluster state ok on :${n.port}`, 15_000);
      }
      return new RedisCluster(nodes);
    } catch (e) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw e;
    }
  }

  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/**
 * A master, one replica and one Sentinel watching them (quorum 1, down after 1 s), for the
 * `redis.sentinel` mode and its failover.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPort: number,
    private readonly sentinel: ChildProcess,
    private readonly dir: string,
  ) {}

  static readonly NAME = 'sgmaster';

  static async start(): Promise<RedisSentinelGroup> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-sentinel-'));
    const port = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${RedisSentinelGroup.NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${RedisSentinelGroup.NAME} 1000`,
        `sentinel failover-timeout ${RedisSentinelGroup.NAME} 5000`,
        '',
      ].join('\n'),
    );
    const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    await waitFor(async () => (await rawCommand(port, 'PING', 300)).startsWith('+PONG'), `sentinel :${port}`);
    // Wait until the replica is in sync, so a failover has something to promote.
    await waitFor(async () => (await rawCommand(replica.port, 'INFO replication')).includes('master_link_status:up'), 'replica in sync');
    return new RedisSentinelGroup(master, replica, port, sentinel, dir);
  }

  /** Port of the current master according to the Sentinel. */
  async masterPort(): Promise<number> {
    const r = await rawCommand(this.sentinelPort, `SENTINEL get-master-addr-by-name ${RedisSentinelGroup.NAME}`);
    const m = /\$\d+\r\n(\d+)\r\n$/.exec(r);
    return m ? Number(m[1]) : 0;
  }

  async waitForFailover(fromPort: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      const p = await this.masterPort();
      return p !== 0 && p !== fromPort;
    }, 'sentinel failover', timeoutMs);
  }

  async stop(): Promise<void> {
    this.sentinel.kill('SIGKILL');
    await Promise.all([this.master.stop(), this.replica.stop()]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
