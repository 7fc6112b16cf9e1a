/** Built-in eval tests on small messages: the edges the shipped fixtures do not show. */
import { parseMessage } from '../../../src/message/index.js';
import { EVALS } from '../../../src/rules/evals.js';
import { scanTargets } from '../../../src/rules/evaluate.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');
async function ev(name: string, lines: string[], rcptTo: string[] = ['user@example.net'], args: Record<string, number> = {}) {
  const msg = await parseMessage(Buffer.from(lines.join('\r\n')));
  const e = EVALS[name]!;
  return e.run({ msg, envelope: { mailFrom: '', rcptTo }, now: NOW, targets: scanTargets(msg) }, { ...(e.args ?? {}), ...args });
}
const html = (body: string, extra: string[] = []) => ['From: a@example.org', ...extra, 'Content-Type: text/html; charset=utf-8', '', body, ''];

describe('eval tests', () => {
  test.each<[string, string[], readonly string[] | undefined]>([
    ['date_in_past', ['Received: from x by y; Sat, 10 Jan 2026 12:00:00 +0000', 'Date: Mon, 05 Jan 2026 12:00:00 +0000', ''], ['-120h']],
    // Compared with the Received time, not the clock: an old message scanned today is fine.
    ['date_in_past', ['Received: from x by y; Mon, 05 Jan 2026 13:00:00 +0000', 'Date: Mon, 05 Jan 2026 12:00:00 +0000', ''], undefined],
    ['date_in_past', ['Date: Mon, 01 Dec 2025 12:00:00 +0000', ''], ['-960h']],
    ['date_in_future', ['Date: Sun, 11 Jan 2026 11:00:00 +0000', ''], undefined],
    ['date_in_future', ['Date: Mon, 12 Jan 2026 13:00:00 +0000', ''], ['+49h']],
    ['date_invalid', ['Date: 32 Foo 2026', ''], ['32 Foo 2026']],
    ['date_invalid', ['Date: Sat, 10 Jan 2026 12:00:00 +0000', ''], undefined],
    ['from_malformed', ['From: a@example.org', 'From: b@example.org', ''], ['repeated']],
    ['from_malformed', ['Subject: x', ''], ['missing']],
    ['from_malformed', ['From: "A B" <a.b+tag@mail.example.co.uk>', ''], undefined],
    ['reply_to_from_domain_mismatch', ['From: a@news.example.org', 'Reply-To: b@example.org', ''], undefined],
    ['reply_to_from_domain_mismatch', ['From: a@example.org', 'Reply-To: b@example.com', ''], ['example.org -> example.com']],
    ['reply_to_from_domain_mismatch', ['From: a@example.org', 'Reply-To: list@example.com', 'List-Post: <mailto:list@example.com>', ''], undefined],
    ['uri_homoglyph_host', ['', 'see http://xn--bcher-kva.com/ (German books)', ''], undefined],
    ['uri_homoglyph_host', ['', 'see http://xn--80ak6aa92e.com/', ''], ['xn--80ak6aa92e.com']],
    ['link_text_domain_mismatch', html('<a href="https://www.example.com/a">example.com</a> <a href="https://x.example.net/">click here</a>'), undefined],
    ['link_text_domain_mismatch', html('<a href="https://track.example.net/r?u=1">https://www.example.com/</a>'), ['https://www.example.com/ -> example.net']],
    ['image_only', html('<img src="http://i.example.com/a.png"><p>' + 'words '.repeat(30) + '</p>'), undefined],
    ['html_hidden_text', html('<p style="color:#fff;background:#fff">' + 'x'.repeat(120) + '</p>short'), ['white-on-white']],
    // A hidden preheader line (inbox preview text) is not enough.
    ['html_hidden_text', html('<div style="display:none">' + 'Our January news in brief'.repeat(3) + '</div><p>short</p>'), undefined],
    ['html_hidden_text', html('<div style="background-color:black"><font color="#000000">' + 'y'.repeat(120) + '</font></div>'), ['same-colour-text']],
    ['html_excessive_entities', html('<p>' + '&#233;'.repeat(80) + '</p>'), undefined],
  ])('%s %#', async (name, lines, want) => {
    expect(await ev(name, lines)).toEqual(want);
  });

  test('display-name spoofing: same organisation is not spoofing', async () => {
    const lines = ['From: "example.net support" <support@mail.example.net>', ''];
    expect(await ev('display_name_spoofs_recipient_domain', lines)).toBeUndefined();
    expect(await ev('display_name_spoofs_recipient_domain', ['From: "EXAMPLE.NET Security" <x@evil.example>', ''])).toEqual(['EXAMPLE.NET Security <evil.example>']);
    expect(await ev('display_name_spoofs_recipient_domain', ['From: "EXAMPLE.NET Security" <x@evil.example>', ''], [])).toBeUndefined();
  });

  test('args change thresholds', async () => {
    const lines = html('<p>' + 'ab'.split('').map((c) => `&#${c.charCodeAt(0)};`).join('').repeat(10) + '</p>');
    expect(await ev('html_excessive_entities', lines)).toBeUndefined();
    expect(await ev('html_excessive_entities', lines, undefined, { min: 20 })).toEqual(['20']);
  });
});
