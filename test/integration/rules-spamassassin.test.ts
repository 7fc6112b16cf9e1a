/**
 * Import the real SpamAssassin rules when the Debian package is installed (/usr/share/spamassassin;
 * `.ci/run` installs it). Without it, the importer must report the missing folder as a problem.
 * Prints loaded/skipped counts for the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadRuleSet } from '../../src/rules/loader.js';
import { evaluateRules } from '../../src/rules/evaluate.js';
import { parseMessage } from '../../src/message/index.js';

const SA_DIR = '/usr/share/spamassassin';
const installed = fs.existsSync(path.join(SA_DIR, '50_scores.cf'));

describe('SpamAssassin import of the installed rules', () => {
  test(installed ? `loads ${SA_DIR} next to the shipped rules` : `${SA_DIR} absent: reported as a problem`, async () => {
    const r = loadRuleSet({ paths: ['rules'], spamassassin: [SA_DIR], baseDir: path.resolve('.') });
    if (!installed) {
      expect(r.ok).toBe(false);
      expect(r.problems[0]).toMatchObject({ file: SA_DIR, line: 0 });
      return;
    }
    if (!r.ok) throw new Error(r.problems.slice(0, 10).map((p) => `${p.file}:${p.line}: ${p.rule ?? ''} ${p.message}`).join('\n'));
    const sa = r.ruleSet.stats.spamassassin;
    process.stdout.write(`SpamAssassin import: ${sa.files.length} files, ${sa.loaded} rules loaded, ${sa.skipped} skipped ${JSON.stringify(sa.skippedReasons)}\n`);
    expect(sa.loaded).toBeGreaterThan(300);
    expect(sa.skippedReasons['ifplugin/if block']).toBeGreaterThan(0);
    expect(sa.skippedReasons.lookaround).toBeGreaterThan(0);
    // Every skip has a reason and a place.
    for (const s of r.ruleSet.skipped) {
      expect(s.reason.length).toBeGreaterThan(0);
      expect(s.file.length).toBeGreaterThan(0);
    }
    // The combined set evaluates: GTUBE still wins, and SpamAssassin rules fire on an obvious spam.
    const gtube = await parseMessage(fs.readFileSync(path.resolve('test/fixtures/rules/GTUBE.spam.eml')));
    const hits = evaluateRules(r.ruleSet, gtube, { mailFrom: '', rcptTo: ['user@example.net'] }).hits.map((h) => h.rule.id);
    expect(hits).toContain('GTUBE');
    const spam = await parseMessage(
      Buffer.from(
        'From: "Lottery" <winner@example.com>\r\nTo: you@example.net\r\nSubject: You have WON!!!\r\nDate: Sat, 10 Jan 2026 12:00:00 +0000\r\n\r\n' +
          'Dear Friend, CONGRATULATIONS! You have been selected. 100% GUARANTEED! Click here to claim your prize. Act now! ' +
          'Send your bank account details. US$ 10,000,000.00 (TEN MILLION UNITED STATES DOLLARS).\r\n',
      ),
    );
    const saHits = evaluateRules(r.ruleSet, spam, { mailFrom: '', rcptTo: [] }).hits.filter((h) => h.rule.source === 'spamassassin');
    expect(saHits.length).toBeGreaterThan(0);
  });
});
