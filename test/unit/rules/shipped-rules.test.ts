/**
 * Every shipped rule (rules/*.yaml) has a fixture that fires it (test/fixtures/rules/<ID>.spam.eml)
 * and the ham fixtures (test/fixtures/rules/ham/*.eml) fire none of the shipped rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseMessage } from '../../../src/message/index.js';
import { loadRuleSet } from '../../../src/rules/loader.js';
import { evaluateRules } from '../../../src/rules/evaluate.js';
import type { RuleSet } from '../../../src/rules/types.js';

const root = path.resolve('.');
const fixtures = path.join(root, 'test/fixtures/rules');
const envelope = { mailFrom: 'alice@example.org', rcptTo: ['user@example.net'] };
// Fixtures are dated 10 Jan 2026; the date rules compare against their Received line, and `now`
// is fixed so nothing depends on the wall clock.
const now = Date.parse('2026-01-10T12:00:10Z');

function shipped(): RuleSet {
  const r = loadRuleSet({ paths: ['rules'], spamassassin: [], baseDir: root });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  return r.ruleSet;
}

async function hitsFor(file: string, set: RuleSet): Promise<Map<string, readonly string[]>> {
  const msg = await parseMessage(fs.readFileSync(file));
  return new Map(evaluateRules(set, msg, envelope, now).hits.map((h) => [h.rule.id, h.options]));
}

const set = shipped();
const reported = set.rules.filter((r) => r.reported).map((r) => r.id);

describe('shipped rules', () => {
  test('load without problems and include every category the issue asks for', () => {
    const cats = new Set(set.rules.filter((r) => r.reported).map((r) => r.category));
    for (const c of ['test', 'phishing', 'malware', 'header', 'obfuscation']) expect(cats).toContain(c);
    expect(reported.length).toBeGreaterThanOrEqual(20);
  });

  test('every reported rule has a spam fixture', () => {
    const missing = reported.filter((id) => !fs.existsSync(path.join(fixtures, `${id}.spam.eml`)));
    expect(missing).toEqual([]);
  });

  test.each(reported)('%s fires on its fixture', async (id) => {
    const hits = await hitsFor(path.join(fixtures, `${id}.spam.eml`), set);
    expect([...hits.keys()]).toContain(id);
  });

  const hams = fs.readdirSync(path.join(fixtures, 'ham')).filter((f) => f.endsWith('.eml'));
  test('there are ham fixtures', () => expect(hams.length).toBeGreaterThanOrEqual(4));

  test.each(hams)('ham fixture %s fires no shipped rule', async (f) => {
    const hits = await hitsFor(path.join(fixtures, 'ham', f), set);
    expect([...hits.keys()]).toEqual([]);
  });

  test('options are short and informative', async () => {
    const gtube = await hitsFor(path.join(fixtures, 'GTUBE.spam.eml'), set);
    expect(gtube.get('GTUBE')).toEqual([]);
    const link = await hitsFor(path.join(fixtures, 'LINK_TEXT_DOMAIN_MISMATCH.spam.eml'), set);
    expect(link.get('LINK_TEXT_DOMAIN_MISMATCH')).toEqual(['www.paypal.com -> example.com']);
    const ip = await hitsFor(path.join(fixtures, 'URI_IP_HOST.spam.eml'), set);
    expect(ip.get('URI_IP_HOST')).toEqual(['http://192.0.2.55/track/12345']);
    const zip = await hitsFor(path.join(fixtures, 'ZIP_CONTAINS_EXECUTABLE.spam.eml'), set);
    expect(zip.get('ZIP_CONTAINS_EXECUTABLE')).toEqual(['documents.zip: scan_0042.js']);
    for (const opts of [...gtube.values(), ...link.values(), ...ip.values()]) for (const o of opts) expect(o.length).toBeLessThanOrEqual(80);
  });

  test('display-name spoofing needs the envelope recipient domain', async () => {
    const msg = await parseMessage(fs.readFileSync(path.join(fixtures, 'FROM_NAME_SPOOFS_RCPT_DOMAIN.spam.eml')));
    const other = evaluateRules(set, msg, { mailFrom: '', rcptTo: ['someone@elsewhere.example'] }, now);
    expect(other.hits.map((h) => h.rule.id)).not.toContain('FROM_NAME_SPOOFS_RCPT_DOMAIN');
  });
});
