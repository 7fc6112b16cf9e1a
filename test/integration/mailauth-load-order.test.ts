/**
 * The DKIM/ARC key-parse cache (src/checks/auth/mailauth-key-cache.ts) must be installed in the
 * daemon as Node itself loads it, not only under jest: it patches mailauth before mailauth's
 * verifiers are evaluated, and Node (20.20) runs a CommonJS module imported statically by an ES
 * module while linking the graph, before any module body. Imported with `export … from
 * 'mailauth/…'`, the verifiers loaded first and the cache silently stayed off (found in the issue-6
 * latency profile: every message re-parsed its DKIM key). So: a real `node` process imports the
 * built engine the way `spamgate serve` does (dist/, after `npm run build`) and reports the
 * cache's state.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

function statsAfterImporting(modules: string[]): { active: boolean; reason: string } {
  if (!fs.existsSync(path.join(ROOT, 'dist/app/build-engine.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const script = [
    ...modules.map((m) => `await import(${JSON.stringify(path.join(ROOT, 'dist', m))});`),
    `const k = await import(${JSON.stringify(path.join(ROOT, 'dist/checks/auth/mailauth-key-cache.js'))});`,
    'console.log(JSON.stringify(k.keyCacheStats()));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { active: boolean; reason: string };
}

describe('mailauth key cache under plain Node', () => {
  test('importing the engine as the daemon does installs the cache', () => {
    expect(statsAfterImporting(['app/build-engine.js'])).toMatchObject({ active: true, reason: 'installed' });
  });

  test('importing the mailauth door module first installs it too', () => {
    expect(statsAfterImporting(['checks/auth/mailauth.js'])).toMatchObject({ active: true, reason: 'installed' });
  });
});

describe('mailauth header scan under plain Node', () => {
  test('importing the engine as the daemon does installs the header scan', () => {
    const script = [
      `await import(${JSON.stringify(path.join(ROOT, 'dist/app/build-engine.js'))});`,
      `const h = await import(${JSON.stringify(path.join(ROOT, 'dist/checks/auth/mailauth-header-scan.js'))});`,
      `const { MessageParser } = (await import('node:module')).createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))})('mailauth/lib/dkim/message-parser');`,
      'console.log(JSON.stringify({ ...h.headerScanStats(), replaced: MessageParser.prototype.processChunk !== h.originalProcessChunk() }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ active: true, reason: 'installed', replaced: true });
  });
});
