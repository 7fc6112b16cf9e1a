/**
 * A private, real Postfix (the Debian package's binaries) for integration tests, started as root
 * without touching the system instance: its own config_directory (main.cf + master.cf written
 * here), queue_directory, data_directory and maillog_file under one temp dir, smtpd listeners on
 * free loopback ports, all mail relayed to `relayhost` (a test sink on loopback). No DNS at all:
 * numeric relayhost, smtp_dns_support_level=disabled, smtpd_peername_lookup=no (every client
 * shows as `unknown[ip]`).
 *
 * Several instances can run at once: everything they own (dirs, lock, pid file, postlog socket,
 * ports) is per instance. `postfix -c DIR stop` in stop(), and a process-exit hook that aborts any
 * instance a failed test run left behind.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTFIX = '/usr/sbin/postfix';
const POSTCONF = '/usr/sbin/postconf';

/** Why a real Postfix cannot run here (the caller skips and prints it), or undefined. */
export function postfixUnavailable(): string | undefined {
  if (!fs.existsSync(POSTFIX) || !fs.existsSync(POSTCONF)) return 'Postfix is not installed (Debian package `postfix`; .ci/run installs it)';
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root (its master daemon binds ports and drops privileges to mail_owner)';
  const owner = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  if (owner.status !== 0) return 'the `postfix` user (mail_owner) does not exist';
  return undefined;
}

export interface SmtpdService {
  /** master.cf `-o` overrides for this listener (values may use $parameters of main.cf). */
  readonly options?: Readonly<Record<string, string>>;
}

export interface PostfixOptions {
  /** Host and port Postfix relays everything to (`relayhost = [host]:port`). */
  readonly relayTo: { host: string; port: number };
  /** smtpd listeners by name; each gets a free loopback port and `syslog_name=postfix/NAME`. */
  readonly smtpd: Readonly<Record<string, SmtpdService>>;
  /** Extra main.cf parameters. */
  readonly main?: Readonly<Record<string, string>>;
  /** Files written into the config directory before start (e.g. texthash: access maps). */
  readonly files?: Readonly<Record<string, string>>;
}

export interface PostfixInstance {
  readonly dir: string;
  readonly configDir: string;
  /** Listener name → port. */
  readonly ports: Readonly<Record<string, number>>;
  readonly version: string;
  /** The whole maillog so far. */
  log(): string;
  /** Poll the maillog until `re` matches (a bound, not an assertion: generous under load). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Change main.cf parameters and `postfix reload`; processes started afterwards use them. */
  set(params: Readonly<Record<string, string>>): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<string>();
let exitHookInstalled = false;

/** Last resort when afterAll never ran (a crashed worker still runs 'exit' handlers). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const configDir of running) spawnSync(POSTFIX, ['-c', configDir, 'abort'], { stdio: 'ignore' });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Parameters this Postfix knows (Debian 12 has 3.7; newer knobs only where they exist). */
async function knownParameters(): Promise<Set<string>> {
  const { stdout } = await run(POSTCONF, ['-d'], { maxBuffer: 16 * 1024 * 1024 });
  return new Set(stdout.split('\n').map((l) => l.split(' = ')[0]!));
}

function mainCf(dir: string, opts: PostfixOptions, known: Set<string>): string {
  const p: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'spool'),
    data_directory: path.join(dir, 'data'),
    maillog_file: path.join(dir, 'maillog'),
    // maillog_file must sit under one of these (postconf(5)); the default allows only /var.
    maillog_file_prefixes: dir,
    myhostname: 'pf.test.example',
    mydomain: 'test.example',
    myorigin: '$myhostname',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    // Nothing is local: every domain is relayed to the sink.
    mydestination: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    relay_domains: '',
    relayhost: `[${opts.relayTo.host}]:${opts.relayTo.port}`,
    // No DNS anywhere (loopback only): numeric relayhost, no MX/A lookups, no client PTR lookups.
    smtp_dns_support_level: 'disabled',
    smtpd_peername_lookup: 'no',
    // Leave message headers exactly as received (no address rewriting in headers).
    local_header_rewrite_clients: '',
    biff: 'no',
    smtpd_banner: '$myhostname ESMTP Postfix',
  };
  // Postfix ≥ 3.9 defaults (backported, off, to 3.5–3.8): refuse bare LF and unauthorised
  // pipelining (FIELD-NOTES §3), also from loopback, so our client is held to them.
  if (known.has('smtpd_forbid_bare_newline')) {
    p.smtpd_forbid_bare_newline = 'reject';
    p.smtpd_forbid_bare_newline_exclusions = '';
  }
  if (known.has('smtpd_forbid_unauth_pipelining')) p.smtpd_forbid_unauth_pipelining = 'yes';
  Object.assign(p, opts.main);
  return Object.entries(p).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}

function masterCf(opts: PostfixOptions, ports: Record<string, number>): string {
  const lines: string[] = [];
  for (const [name, svc] of Object.entries(opts.smtpd)) {
    // chroot "n": the instance lives in a temp dir, not in a prepared chroot jail.
    lines.push(`127.0.0.1:${ports[name]} inet n - n - - smtpd`, `  -o syslog_name=postfix/${name}`);
    for (const [k, v] of Object.entries(svc.options ?? {})) lines.push(`  -o ${k}=${v}`);
  }
  // The usual internal services (Debian's master.cf), without chroot, plus postlogd for maillog_file.
  lines.push(
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  );
  return lines.join('\n') + '\n';
}

async function postfix(configDir: string, ...args: string[]): Promise<void> {
  await run(POSTFIX, ['-c', configDir, ...args], { timeout: 120_000 });
}

export async function startPostfix(opts: PostfixOptions): Promise<PostfixInstance> {
  const reason = postfixUnavailable();
  if (reason) throw new Error(reason);
  const known = await knownParameters();
  const { stdout: version } = await run(POSTCONF, ['-dh', 'mail_version']);
  // A port picked free can be taken before master binds it: try again with new ports.
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-postfix-'));
    // Postfix daemons (as mail_owner) must reach data_directory and the queue below this dir.
    fs.chmodSync(dir, 0o755);
    const configDir = path.join(dir, 'etc');
    for (const d of ['etc', 'spool', 'data']) fs.mkdirSync(path.join(dir, d));
    await run('chown', ['postfix:postfix', path.join(dir, 'data')]);
    const ports: Record<string, number> = {};
    for (const name of Object.keys(opts.smtpd)) ports[name] = await freePort();
    fs.writeFileSync(path.join(configDir, 'main.cf'), mainCf(dir, opts, known));
    fs.writeFileSync(path.join(configDir, 'master.cf'), masterCf(opts, ports));
    for (const [name, text] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(configDir, name), text);
    const logFile = path.join(dir, 'maillog');
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    try {
      // `start` runs `postfix check` first (creates the queue directories, checks the config).
      await postfix(configDir, 'start');
    } catch (e) {
      const text = log();
      fs.rmSync(dir, { recursive: true, force: true });
      if (attempt < 3 && /Address already in use/.test(text)) continue;
      throw new Error(`postfix -c ${configDir} start failed: ${(e as Error).message}\n${text}`);
    }
    running.add(configDir);
    installExitHook();
    let stopped = false;
    const instance: PostfixInstance = {
      dir,
      configDir,
      ports,
      version: version.trim(),
      log,
      async waitForLog(re, timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const m = re.exec(log());
          if (m) return m;
          if (Date.now() > until) throw new Error(`Postfix log never matched ${re} within ${timeoutMs} ms:\n${log().slice(-4000)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async set(params) {
        await run(POSTCONF, ['-c', configDir, '-e', ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
        await postfix(configDir, 'reload');
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await postfix(configDir, 'stop');
        } catch {
          spawnSync(POSTFIX, ['-c', configDir, 'abort'], { stdio: 'ignore' });
        }
        running.delete(configDir);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    return instance;
  }
}
