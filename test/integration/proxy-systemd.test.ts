/**
 * systemd/spamgate.service passes `systemd-analyze verify` and has an exposure level ≤ 3.0 in
 * `systemd-analyze security --offline=true` (`--threshold` is on a 0–100 scale: 30 = 3.0,
 * FIELD-NOTES §12). Needs systemd-analyze (Debian package `systemd`; .ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const UNIT = path.resolve(import.meta.dirname, '../../systemd/spamgate.service');

function analyzer(): string {
  const r = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (!bin) throw new Error('systemd-analyze not found: apt-get install -y systemd');
  return bin;
}

describe('systemd/spamgate.service', () => {
  test('systemd-analyze verify accepts the unit', () => {
    const r = spawnSync(analyzer(), ['verify', UNIT], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  test('exposure level ≤ 3.0 offline, without MemoryDenyWriteExecute (breaks V8)', () => {
    const out = execFileSync(analyzer(), ['security', '--offline=true', '--threshold=30', UNIT], { encoding: 'utf8' });
    const m = /Overall exposure level for spamgate\.service: (\d+\.\d)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(3.0);
    expect(out).toMatch(/✗ MemoryDenyWriteExecute=/);
  });
});
