/**
 * `spamgate reputation get|set|clear` and `spamgate history` as an admin runs them (the built CLI,
 * bin/spamgate.js → dist/) against a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { configSchema } from '../../src/config/schema.js';
import { createStores } from '../../src/store/index.js';
import { startRedis } from '../helpers/redis-server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');
let redis: Awaited<ReturnType<typeof startRedis>>;
let dir: string;
let configFile: string;

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, [path.join(root, 'bin/spamgate.js'), ...args, '-c', configFile], { timeout: 15_000 });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

beforeAll(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-cli-'));
  configFile = path.join(dir, 'spamgate.yaml');
  fs.writeFileSync(configFile, `redis:\n  url: "${redis.url}"\n  prefix: "cli:"\n`);
}, 20_000);
afterAll(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('spamgate reputation', () => {
  it('sets, gets and clears an entry (net accepts any address of the network)', async () => {
    expect((await cli('reputation', 'set', 'net', '198.51.100.7', '--spam', '40', '--ham', '0')).stdout).toMatch(/net 198\.51\.100\.0\/24: set spam=40/);
    const got = await cli('reputation', 'get', 'net', '198.51.100.0/24', '--json');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ kind: 'net', key: '198.51.100.0/24', verdict: 'bad' });
    expect(JSON.parse(got.stdout).spam).toBeCloseTo(40, 1);
    expect((await cli('reputation', 'clear', 'net', '198.51.100.0/24')).stdout).toMatch(/cleared/);
    expect((await cli('reputation', 'get', 'net', '198.51.100.1')).stdout).toMatch(/updated=never → neutral/);
  }, 30_000);

  it('refuses an unknown kind or a bad address', async () => {
    const bad = await cli('reputation', 'get', 'asn', '64496');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown KIND "asn"/);
    expect((await cli('reputation', 'get', 'ip', 'nope')).stderr).toMatch(/not an IP address/);
  }, 30_000);
});

describe('spamgate history', () => {
  it('lists the newest verdicts as text or JSON, with filters', async () => {
    const cfg = configSchema.parse({ redis: { url: redis.url, prefix: 'cli:' } }).redis;
    const stores = createStores(cfg);
    expect(await stores.ready(5000)).toBe(true);
    for (let i = 1; i <= 3; i++) {
      await stores.history.push({
        time: Date.UTC(2026, 0, 1, 10, i),
        sessionId: `sess${i}`,
        clientIp: `192.0.2.${i}`,
        mailFrom: `s${i}@example.org`,
        rcptTo: ['u@example.net'],
        subject: `Subject ${i}`,
        score: 5 * i,
        action: i === 3 ? 'reject' : 'accept',
        symbols: [{ name: 'RBL_X', score: 5 * i }],
        outcome: i === 3 ? '550 Message rejected as spam' : '250 ok',
      });
    }
    await stores.close();
    const text = await cli('history', '--limit', '2');
    expect(text.stdout.trim().split('\n')).toEqual([
      '2026-01-01T10:03:00.000Z sess3 192.0.2.3 reject 15 <s3@example.org> -> <u@example.net> "Subject 3" RBL_X(15) => 550 Message rejected as spam',
      '2026-01-01T10:02:00.000Z sess2 192.0.2.2 accept 10 <s2@example.org> -> <u@example.net> "Subject 2" RBL_X(10) => 250 ok',
    ]);
    const json = JSON.parse((await cli('history', '--json', '--address', 's1@')).stdout) as { sessionId: string }[];
    expect(json.map((e) => e.sessionId)).toEqual(['sess1']);
  }, 30_000);

  it('says so when Redis is not configured', async () => {
    const empty = path.join(dir, 'empty.yaml');
    fs.writeFileSync(empty, 'hostname: mx.example.net\n');
    const r = await run(process.execPath, [path.join(root, 'bin/spamgate.js'), 'history', '-c', empty]).catch((e: { stderr: string; code: number }) => e);
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toMatch(/redis is not configured/);
  }, 30_000);
});
