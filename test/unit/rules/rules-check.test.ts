/** The `rules` check: factory from config, dynamic symbols, emissions, check-config report. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../../../src/config/loader.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { silentLogger } from '../../../src/log.js';
import { rulesCheck, rulesHolderFor, createRulesCheck } from '../../../src/checks/data/rules.js';
import { RuleSetHolder } from '../../../src/rules/holder.js';
import { rulesValidator } from '../../../src/rules/check-config.js';
import type { CheckServices } from '../../../src/core/services.js';
import type { CheckContext, Check } from '../../../src/core/types.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-rcheck-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function services(yaml: string): CheckServices {
  const loaded = parseConfigText(yaml, path.join(dir, 'spamgate.yaml'));
  return { config: loaded.config, baseDir: loaded.baseDir, log: silentLogger, metrics: createMetrics(), dns: undefined as never, stores: undefined as never };
}

async function run(check: Check, message: Buffer, rcptTo = ['user@example.net']) {
  const emitted: { name: string; options: readonly string[] }[] = [];
  const ctx = {
    stage: 'data',
    session: { id: 't', client: { ip: '192.0.2.1', port: 25, tls: false }, envelope: { mailFrom: 'a@example.org', rcptTo }, message, frontend: 'scan' },
    facts: { get: () => undefined, set: () => undefined },
    signal: new AbortController().signal,
    log: silentLogger,
    emit: (name: string, options: readonly string[] = []) => emitted.push({ name, options }),
    force: () => undefined,
  } as unknown as CheckContext;
  await check.run(ctx);
  return emitted;
}

const rule = (id: string, body: string) => `  - id: ${id}\n    description: ${id} rule\n    score: 2.5\n    category: commercial\n    body: '${body}'\n`;

describe('rules check', () => {
  test('factory loads config.rules.paths relative to the config; symbols are the reported rules', async () => {
    fs.mkdirSync(path.join(dir, 'myrules'));
    fs.writeFileSync(path.join(dir, 'myrules', 'a.yaml'), `rules:\n${rule('CHEAP_PILLS', '/cheap pills/i')}  - id: __SUB\n    body: '/x/'\n`);
    const s = services('rules:\n  paths: [myrules]\n  watch: false\n');
    const check = rulesCheck(s) as Check;
    expect(check.name).toBe('rules');
    expect(check.stage).toBe('data');
    expect(check.symbols).toEqual([{ name: 'CHEAP_PILLS', score: 2.5, description: 'CHEAP_PILLS rule', category: 'commercial' }]);
    const emitted = await run(check, Buffer.from('Subject: hi\r\n\r\nBuy CHEAP PILLS now\r\n'));
    expect(emitted).toEqual([{ name: 'CHEAP_PILLS', options: ['CHEAP PILLS'] }]);
    expect(rulesHolderFor(s)).toBeInstanceOf(RuleSetHolder);
  });

  test('symbols follow a reload', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), `rules:\n${rule('OLD_RULE', '/old/')}`);
    const holder = new RuleSetHolder({ paths: ['.'], spamassassin: [], baseDir: dir });
    holder.loadInitial();
    const check = createRulesCheck(services(''), holder);
    expect(check.symbols.map((x) => x.name)).toEqual(['OLD_RULE']);
    fs.writeFileSync(path.join(dir, 'a.yaml'), `rules:\n${rule('NEW_RULE', '/new/')}`);
    await holder.reload();
    expect(check.symbols.map((x) => x.name)).toEqual(['NEW_RULE']);
  });

  test('the shipped rules fire GTUBE with the recipient from the envelope', async () => {
    const s = services(`rules:\n  paths: [${path.resolve('rules')}]\n  watch: false\n`);
    const check = rulesCheck(s) as Check;
    const gtube = fs.readFileSync(path.resolve('test/fixtures/rules/GTUBE.spam.eml'));
    expect((await run(check, gtube)).map((e) => e.name)).toContain('GTUBE');
    const spoof = fs.readFileSync(path.resolve('test/fixtures/rules/FROM_NAME_SPOOFS_RCPT_DOMAIN.spam.eml'));
    expect((await run(check, spoof)).map((e) => e.name)).toContain('FROM_NAME_SPOOFS_RCPT_DOMAIN');
    expect((await run(check, spoof, ['user@elsewhere.example'])).map((e) => e.name)).not.toContain('FROM_NAME_SPOOFS_RCPT_DOMAIN');
  });

  test('disabled by checks.rules.enabled: false', () => {
    expect(rulesCheck(services('checks:\n  rules:\n    enabled: false\n'))).toBeUndefined();
  });

  test('rule errors fail the factory with file:line', () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), `rules:\n${rule('BAD', '/(a)\\1/')}`);
    expect(() => rulesCheck(services('rules:\n  paths: [bad.yaml]\n  watch: false\n'))).toThrow(/bad\.yaml:6: BAD: RE2 cannot compile/);
  });

  test('check-config validator reports counts and problems with file:line', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), `rules:\n${rule('GOOD', '/good/')}`);
    const loaded = parseConfigText(`rules:\n  paths: [a.yaml]\n  spamassassin: [${path.resolve('test/fixtures/rules/sa')}]\n`, path.join(dir, 'spamgate.yaml'));
    const report = { ok: true, file: 'x', problems: [] as never[] } as Parameters<typeof rulesValidator>[1];
    await rulesValidator(loaded, report);
    expect(report.problems).toEqual([]);
    expect(report.rules).toEqual({ loaded: 1, files: [path.join(dir, 'a.yaml')], errors: 0 });
    expect(report.spamassassin).toMatchObject({ files: 2, loaded: 19, skipped: 11, skippedReasons: expect.objectContaining({ lookaround: 1 }) });

    fs.writeFileSync(path.join(dir, 'a.yaml'), `rules:\n${rule('BAD', '/(?<=x)/')}`);
    const report2 = { ok: true, file: 'x', problems: [] as never[] } as Parameters<typeof rulesValidator>[1];
    await rulesValidator(parseConfigText('rules:\n  paths: [a.yaml]\n', path.join(dir, 'spamgate.yaml')), report2);
    expect(report2.problems).toEqual([{ file: path.join(dir, 'a.yaml'), line: 6, column: 0, key: 'BAD', message: expect.stringMatching(/RE2 cannot compile/) }]);
    expect(report2.rules).toEqual({ loaded: 0, files: [], errors: 1 });
  });
});
