/**
 * `spamgate scan` end to end: the built CLI (`npm run build` first) spawned on temp configs.
 * DNS goes only to a fixture DNS server on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rr, startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/spamgate.js');
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

let dir: string;
let dns: TestDnsServer;

function run(args: string[], stdin?: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, SPAMGATE_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

function writeConfig(name: string, extra = ''): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `hostname: mx.test.example
dns:
  servers: ["${dns.address}"]
  timeoutMs: 5000
rules:
  paths: ["${path.join(ROOT, 'rules')}"]
  watch: false
${extra}`,
  );
  return file;
}

const LF_MESSAGE = (body: string, headers = '') =>
  `From sender@example.org  Thu Aug 22 13:27:39 2002\nReturn-Path: <sender@example.org>\nFrom: Sender <sender@example.org>\nTo: User <user@example.com>\nSubject: test\nDate: Thu, 22 Aug 2002 13:27:39 +0000\nMessage-ID: <1@example.org>\n${headers}\n${body}\n`;

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-scan-'));
  dns = await startDnsServer({ records: { 'example.org': [rr.txt('v=spf1 ip4:192.0.2.0/24 -all')] } });
  fs.writeFileSync(path.join(dir, 'gtube.eml'), LF_MESSAGE(`Hello\n${GTUBE}\n`));
  fs.writeFileSync(path.join(dir, 'ham.eml'), LF_MESSAGE('Lunch tomorrow?\n'));
});

afterAll(async () => {
  await dns?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('spamgate scan', () => {
  test('--json: exactly one object of the documented shape; GTUBE in an mbox LF-only file is rejected', async () => {
    const cfg = writeConfig('a.yaml');
    const r = await run(['scan', '--config', cfg, '--ip', '192.0.2.7', '--json', 'gtube.eml']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 }); // stderr shown on failure
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out).sort()).toEqual(['action', 'auth', 'required', 'score', 'symbols']);
    expect(out.action).toBe('reject');
    expect(out.required).toBe(6);
    expect(out.score).toBeGreaterThanOrEqual(1000);
    expect(out.symbols.GTUBE).toEqual({ score: 1000, options: expect.any(Array) });
    for (const s of Object.values(out.symbols) as { score: unknown; options: unknown }[]) {
      expect(typeof s.score).toBe('number');
      expect(Array.isArray(s.options)).toBe(true);
    }
    // SPF from the loopback fixture zone: 192.0.2.7 is in example.org's ip4:192.0.2.0/24.
    expect(out.auth.spf).toEqual({ result: 'pass', domain: 'example.org' });
  });

  test('stdin, CRLF input and --from/--rcpt; without auth checks there is no "auth" key', async () => {
    const cfg = writeConfig('b.yaml', 'checks:\n  spf: { enabled: false }\n  auth: { enabled: false }\n');
    const crlf = LF_MESSAGE('Lunch tomorrow?\n').replace(/^From .*\n/, '').replace(/\n/g, '\r\n');
    const r = await run(['scan', '-c', cfg, '--from', '', '--rcpt', 'x@example.com', '--json', '-'], crlf);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['action', 'required', 'score', 'symbols']);
    expect(out.action).toBe('accept');
  });

  test('mbox/LF and CRLF copies of a message get the same verdict', async () => {
    const cfg = writeConfig('c.yaml', 'checks:\n  spf: { enabled: false }\n  auth: { enabled: false }\n');
    const lf = fs.readFileSync(path.join(dir, 'gtube.eml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'gtube-crlf.eml'), lf.replace(/^From .*\n/, '').replace(/\n/g, '\r\n'));
    const a = JSON.parse((await run(['scan', '-c', cfg, '--json', 'gtube.eml'])).stdout);
    const b = JSON.parse((await run(['scan', '-c', cfg, '--json', 'gtube-crlf.eml'])).stdout);
    expect(a).toEqual(b);
  });

  test('text output: a table sorted by score, highest first', async () => {
    const cfg = writeConfig('d.yaml', 'checks:\n  spf: { enabled: false }\n  auth: { enabled: false }\nscores: { GTUBE: 20 }\n');
    const r = await run(['scan', '-c', cfg, 'gtube.eml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^action: +reject$/m);
    expect(r.stdout).toMatch(/^score: +\d+\.\d\d \(required 6\.00\)$/m);
    const rows = r.stdout.split('\n').filter((l) => /^\s+-?\d+\.\d\d  [A-Z]/.test(l));
    expect(rows.length).toBeGreaterThan(0);
    const scores = rows.map((l) => Number(l.trim().split(/\s+/)[0]));
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    expect(rows[0]).toMatch(/20\.00 {2}GTUBE +Generic Test for Unsolicited Bulk Email/);
  });

  test('a forced decision at connect (block list) still gives a verdict', async () => {
    const cfg = writeConfig('e.yaml', 'checks:\n  spf: { enabled: false }\n  auth: { enabled: false }\npolicy:\n  blockIps: ["198.51.100.0/24"]\n');
    const out = JSON.parse((await run(['scan', '-c', cfg, '--ip', '198.51.100.9', '--json', 'ham.eml'])).stdout);
    expect(out.action).toBe('reject');
    expect(out.symbols.BLOCKLIST_IP).toEqual({ score: 0, options: ['198.51.100.9'] });
  });

  test('recipients of several domain policies: the strictest verdict', async () => {
    const cfg = writeConfig(
      'f.yaml',
      'checks:\n  spf: { enabled: false }\n  auth: { enabled: false }\nscores: { GTUBE: 10 }\npolicy:\n  domains:\n    strict.example: { actions: { reject: 8 } }\n    lax.example: { actions: { tag: 50, reject: 100 } }\n',
    );
    const one = async (...rcpts: string[]) =>
      JSON.parse((await run(['scan', '-c', cfg, ...rcpts.flatMap((r) => ['--rcpt', r]), '--json', 'gtube.eml'])).stdout) as { action: string; required: number };
    expect(await one('a@lax.example')).toMatchObject({ action: 'greylist', required: 50 });
    expect(await one('a@other.example')).toMatchObject({ action: 'tag', required: 6 });
    expect(await one('a@lax.example', 'b@strict.example', 'c@other.example')).toMatchObject({ action: 'reject', required: 6 });
  });

  test('a bad config: every problem with file:line on stderr, exit 1', async () => {
    const cfg = writeConfig('bad.yaml', 'actions:\n  tag: "six"\n');
    const r = await run(['scan', '-c', cfg, '--json', 'ham.eml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${cfg}:9:3: actions.tag:`);
  });
});

describe('spamgate symbols and check-config', () => {
  test('symbols --json lists every symbol with score and description', async () => {
    const cfg = writeConfig('s.yaml', 'scores: { GTUBE: 500 }\n');
    const r = await run(['symbols', '-c', cfg, '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; score: number; defaultScore: number; check: string; description: string }[];
    const byName = new Map(rows.map((x) => [x.name, x]));
    expect(byName.get('GTUBE')).toMatchObject({ score: 500, defaultScore: 1000, check: 'rules' });
    expect(byName.get('CHECK_TIMEOUT')).toMatchObject({ score: 0, check: 'engine' });
    expect(byName.get('BLOCKLIST_IP')).toMatchObject({ check: 'policy_client' });
    expect(rows.every((x) => x.description.length > 0)).toBe(true);
    expect(rows.map((x) => x.name)).toEqual([...rows.map((x) => x.name)].sort());
    const text = await run(['symbols', '-c', cfg]);
    expect(text.stdout).toMatch(/^GTUBE +500\.00\* +rules +Generic Test/m);
  });

  test('check-config reports unknown score overrides and disabledChecks at their line', async () => {
    const cfg = writeConfig('cc.yaml', 'scores:\n  NO_SUCH_SYMBOL: 2\npolicy:\n  domains:\n    example.com:\n      disabledChecks: [no_such_check]\n');
    const r = await run(['check-config', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}:9:3: scores.NO_SUCH_SYMBOL: no check declares the symbol "NO_SUCH_SYMBOL"`);
    expect(r.stderr).toContain(`${cfg}:13:7: policy.domains.example.com.disabledChecks: no enabled check is named "no_such_check"`);
  });
});
