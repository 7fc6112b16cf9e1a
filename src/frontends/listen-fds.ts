/**
 * Where the listeners come from: `host:port` entries are bound by spamgate; `systemd` and
 * `systemd:NAME` entries take sockets passed by systemd socket activation (sd_listen_fds(3)):
 * spamgate.socket binds port 25 (no CAP_NET_BIND_SERVICE needed in the service) and hands the
 * listening socket to `spamgate serve` as fd 3 onwards.
 *
 * The protocol, per sd_listen_fds(3) and sd_listen_fds_with_names(3):
 * - LISTEN_PID is our pid (else the variables are meant for another process: ignore them);
 * - LISTEN_FDS = N sockets at fds 3 … 3+N−1 (SD_LISTEN_FDS_START = 3);
 * - LISTEN_FDNAMES = N names separated by ':' (FileDescriptorName= in the socket unit; default
 *   the socket unit's name), or unset: every name is "unknown";
 * - the variables are removed from the environment once read (`unset_environment`), so children
 *   do not take them for theirs.
 *
 * Read here rather than through a library: the protocol is three environment variables, and the
 * npm packages for it (e.g. `systemd`, `sd-notify`) are unmaintained or native addons.
 *
 * With `workers: N` the primary reads the variables and passes the sockets to the workers as
 * SPAMGATE_LISTEN_FDS (JSON). A worker's `server.listen({ fd })` is routed by node:cluster to the
 * primary, which listens on its own fd and hands connections to the workers (round robin) — the
 * same path as for a host:port listener — so a worker never touches the fd number itself (its
 * own fd 3 is the cluster IPC channel).
 */
import cluster from 'node:cluster';
import { parseListenEntry } from '../config/types.js';

/** sd_listen_fds(3): the first passed socket. */
export const SD_LISTEN_FDS_START = 3;
/** Passed from a cluster primary to its workers. */
export const WORKER_ENV = 'SPAMGATE_LISTEN_FDS';

export interface ListenFd {
  readonly fd: number;
  readonly name: string;
}

/**
 * The sockets systemd passed to process `pid`, per sd_listen_fds_with_names(3); [] when the
 * variables are absent or meant for another process. Throws on malformed values.
 */
export function parseListenFds(env: NodeJS.ProcessEnv, pid: number): ListenFd[] {
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) return [];
  if (!/^\d+$/.test(env.LISTEN_PID) || Number(env.LISTEN_PID) !== pid) return [];
  if (!/^\d+$/.test(env.LISTEN_FDS)) throw new Error(`LISTEN_FDS=${env.LISTEN_FDS}: not a number`);
  const n = Number(env.LISTEN_FDS);
  const names = env.LISTEN_FDNAMES === undefined ? Array<string>(n).fill('unknown') : env.LISTEN_FDNAMES.split(':');
  if (names.length !== n) throw new Error(`LISTEN_FDNAMES has ${names.length} names for LISTEN_FDS=${n} sockets`);
  return names.map((name, i) => ({ fd: SD_LISTEN_FDS_START + i, name }));
}

let taken: ListenFd[] | undefined;

/**
 * This process's passed sockets, read once: from LISTEN_* (then removed from process.env), or in
 * a cluster worker from its primary's SPAMGATE_LISTEN_FDS.
 */
export function listenFds(): readonly ListenFd[] {
  if (taken) return taken;
  if (cluster.isWorker && process.env[WORKER_ENV]) taken = JSON.parse(process.env[WORKER_ENV]) as ListenFd[];
  else {
    taken = parseListenFds(process.env, process.pid);
    delete process.env.LISTEN_PID;
    delete process.env.LISTEN_FDS;
    delete process.env.LISTEN_FDNAMES;
  }
  return taken;
}

/** The environment a cluster primary gives its workers so they listen on its passed sockets. */
export function workerListenEnv(): Record<string, string> {
  const fds = listenFds();
  return fds.length ? { [WORKER_ENV]: JSON.stringify(fds) } : {};
}

export interface ListenTarget {
  /** The config entry this comes from (for logs and errors). */
  readonly entry: string;
  /** What net.Server#listen takes: an address, or an fd (node's `listen(handle)` form). */
  readonly options: { readonly host: string; readonly port: number; readonly fd?: undefined } | { readonly fd: number };
}

/**
 * One listen target per `host:port` entry and per passed socket a `systemd[:NAME]` entry takes.
 * Fails (every problem in one message) when a `systemd` entry finds no socket, or when a passed
 * socket is taken by no entry: nobody would ever accept its connections.
 */
export function resolveListen(entries: readonly string[], fds: readonly ListenFd[]): ListenTarget[] {
  const targets: ListenTarget[] = [];
  const used = new Set<number>();
  const problems: string[] = [];
  const have = fds.length ? fds.map((f) => `${f.name} (fd ${f.fd})`).join(', ') : 'none (LISTEN_FDS unset: not started by a systemd socket unit)';
  for (const entry of entries) {
    const e = parseListenEntry(entry);
    if (!e) {
      problems.push(`listen ${entry}: expected host:port, systemd or systemd:NAME`);
      continue;
    }
    if (e.kind === 'tcp') {
      targets.push({ entry, options: { host: e.host, port: e.port } });
      continue;
    }
    const match = fds.filter((f) => e.name === undefined || f.name === e.name);
    if (!match.length) problems.push(`listen ${entry}: systemd passed no socket${e.name === undefined ? '' : ` named "${e.name}"`}; passed: ${have}`);
    for (const f of match) {
      if (used.has(f.fd)) continue;
      used.add(f.fd);
      targets.push({ entry, options: { fd: f.fd } });
    }
  }
  const unused = fds.filter((f) => !used.has(f.fd));
  if (unused.length)
    problems.push(`systemd passed sockets no listen entry takes: ${unused.map((f) => `${f.name} (fd ${f.fd})`).join(', ')}; add "systemd:NAME" (or "systemd") to listen`);
  if (problems.length) throw new Error(problems.join('; '));
  return targets;
}
