/**
 * The shipped config/spamgate.yaml is the reference for admins: it must load as it is, and it must
 * mention every key of the schema (set, or commented out with its meaning), so a new key cannot
 * ship undocumented.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { loadConfig } from '../../../src/config/loader.js';
import { configSchema } from '../../../src/config/schema.js';

const FILE = new URL('../../../config/spamgate.yaml', import.meta.url).pathname;

/** Every key path of the schema; `[]` stands for a list element, `*` for a map's free keys. */
function keyPaths(): string[][] {
  const paths: string[][] = [];
  const walk = (s: unknown, p: string[]): void => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    for (const [k, v] of Object.entries((o.properties as Record<string, unknown>) ?? {})) {
      paths.push([...p, k]);
      walk(v, [...p, k]);
    }
    for (const alt of ((o.anyOf ?? o.oneOf ?? o.allOf) as unknown[]) ?? []) walk(alt, p);
    if (o.items && !Array.isArray(o.items)) walk(o.items, [...p, '[]']);
    if (o.additionalProperties && typeof o.additionalProperties === 'object') walk(o.additionalProperties, [...p, '*']);
  };
  walk(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }), []);
  return paths;
}

describe('shipped config/spamgate.yaml', () => {
  it('loads without problems', () => {
    expect(() => loadConfig(FILE)).not.toThrow();
  });

  it('documents every key of the schema', () => {
    const text = fs.readFileSync(FILE, 'utf8');
    const paths = keyPaths();
    expect(paths.length).toBeGreaterThan(100);
    const missing = paths
      .filter((p) => !/^(\[\]|\*)$/.test(p[p.length - 1]!))
      .filter((p) => !new RegExp(`(^|[\\s#{,-])${p[p.length - 1]}:`, 'm').test(text))
      .map((p) => p.join('.'));
    expect(missing).toEqual([]);
  });
});
