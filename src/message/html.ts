/**
 * One streaming pass over the HTML (htmlparser2's SAX parser, no DOM) collecting what content rules
 * need: links with their anchor text, images, forms with password fields, text hidden by style, and
 * the number of character references. The text rendering itself is html-to-text's job (parse.ts).
 */
import { Parser } from 'htmlparser2';
import { classifyUri } from './uris.js';
import type { HtmlSignals, UriInfo } from './types.js';

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const NO_TEXT = new Set(['script', 'style', 'head', 'title', 'noscript', 'template']);
// Character references, HTML §13.5: named (`&amp;`) and numeric (`&#105;`, `&#x69;`).
const ENTITY = /&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});?/gi;

interface Frame {
  readonly name: string;
  readonly hidden: boolean;
  readonly fg?: string;
  readonly bg?: string;
  readonly noText: boolean;
}

export interface HtmlScan {
  readonly signals: HtmlSignals;
  readonly uris: UriInfo[];
}

/** Walk `html` (already capped by the caller). */
export function scanHtml(html: string, maxUris: number): HtmlScan {
  const uris: UriInfo[] = [];
  const forms: { action: string; hasPassword: boolean }[] = [];
  const reasons = new Set<string>();
  const stack: Frame[] = [{ name: '#root', hidden: false, bg: 'ffffff', noText: false }];
  let imageCount = 0;
  let visible = 0;
  let hidden = 0;
  let passwordInputs = 0;
  let anchor: { href: string; text: string } | undefined;
  let openForm: { action: string; hasPassword: boolean } | undefined;

  const addUri = (raw: string | undefined, source: UriInfo['source'], text?: string) => {
    if (!raw || uris.length >= maxUris) return;
    const u = classifyUri(raw, source, text);
    if (u) uris.push(u);
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const parent = stack[stack.length - 1]!;
        const style = (attrs.style ?? '').toLowerCase();
        let isHidden = parent.hidden;
        if (style) {
          if (/display\s*:\s*none/.test(style)) { isHidden = true; reasons.add('display:none'); }
          if (/visibility\s*:\s*hidden/.test(style)) { isHidden = true; reasons.add('visibility:hidden'); }
          if (/font-size\s*:\s*(?:0|1px|0?\.\d+\w*|0\w+|1pt)\s*(?:;|$|!)/.test(style)) { isHidden = true; reasons.add('font-size:0'); }
        }
        if (attrs.hidden !== undefined && name !== 'input') { isHidden = true; reasons.add('hidden-attribute'); }
        const fg = color(attrs.color) ?? color(styleProp(style, 'color')) ?? parent.fg;
        const bg = color(attrs.bgcolor) ?? color(styleProp(style, 'background-color')) ?? color(styleProp(style, 'background')) ?? parent.bg;
        if (!isHidden && fg !== undefined && bg !== undefined && fg === bg && (fg !== parent.fg || bg !== parent.bg)) {
          isHidden = true;
          reasons.add(fg === 'ffffff' ? 'white-on-white' : 'same-colour-text');
        }
        const frame: Frame = { name, hidden: isHidden, noText: parent.noText || NO_TEXT.has(name), ...(fg !== undefined ? { fg } : {}), ...(bg !== undefined ? { bg } : {}) };
        switch (name) {
          case 'a':
            anchor = { href: attrs.href ?? '', text: '' };
            break;
          case 'area':
            addUri(attrs.href, 'a');
            break;
          case 'img':
            imageCount++;
            addUri(attrs.src, 'img');
            break;
          case 'form':
            openForm = { action: attrs.action ?? '', hasPassword: false };
            forms.push(openForm);
            addUri(attrs.action, 'form');
            break;
          case 'input':
            if ((attrs.type ?? '').toLowerCase() === 'password') {
              passwordInputs++;
              if (openForm) openForm.hasPassword = true;
            }
            break;
          case 'iframe':
          case 'frame':
          case 'embed':
            addUri(attrs.src, 'other');
            break;
        }
        if (!VOID.has(name)) stack.push(frame);
      },
      onclosetag(name) {
        if (VOID.has(name)) return;
        // htmlparser2 closes implied elements itself, so frames pop in order.
        if (stack.length > 1) stack.pop();
        if (name === 'a' && anchor) {
          addUri(anchor.href, 'a', anchor.text.replace(/\s+/g, ' ').trim().slice(0, 200));
          anchor = undefined;
        } else if (name === 'form') {
          openForm = undefined;
        }
      },
      ontext(data) {
        const top = stack[stack.length - 1]!;
        if (top.noText) return;
        const n = countNonSpace(data);
        if (n === 0) return;
        if (top.hidden) hidden += n;
        else visible += n;
        if (anchor && anchor.text.length < 300) anchor.text += data;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);

  ENTITY.lastIndex = 0;
  let entityCount = 0;
  let numericEntityCount = 0;
  let m: RegExpExecArray | null;
  while ((m = ENTITY.exec(html)) !== null) {
    entityCount++;
    // Inside a tag (an attribute such as a mailto: href spelt in references against address
    // harvesters) it hides nothing from the reader: count only references in text.
    if (m[0].charCodeAt(1) === 35 /* # */ && html.lastIndexOf('<', m.index) <= html.lastIndexOf('>', m.index)) {
      const code = m[0][2] === 'x' || m[0][2] === 'X' ? parseInt(m[0].slice(3), 16) : parseInt(m[0].slice(2), 10);
      // A reference spelling a plain ASCII letter or digit only hides the word from filters;
      // references to non-ASCII characters are how some mailers write accents or CJK text.
      if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) numericEntityCount++;
    }
  }

  return {
    uris,
    signals: {
      entityCount,
      numericEntityCount,
      imageCount,
      visibleTextLength: visible,
      hiddenTextLength: hidden,
      hiddenReasons: [...reasons],
      forms,
      passwordInputs,
    },
  };
}

function countNonSpace(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 32 && c !== 160) n++;
  }
  return n;
}

const PROP_RE = new Map<string, RegExp>();

function styleProp(style: string, prop: string): string | undefined {
  if (!style) return undefined;
  let re = PROP_RE.get(prop);
  if (!re) PROP_RE.set(prop, (re = new RegExp(`(?:^|;)\\s*${prop}\\s*:\\s*([^;]+)`)));
  const m = re.exec(style);
  return m?.[1]?.trim();
}

const NAMED: Record<string, string> = { white: 'ffffff', black: '000000', red: 'ff0000', green: '008000', blue: '0000ff', yellow: 'ffff00', gray: '808080', grey: '808080', silver: 'c0c0c0' };

/** Normalize a CSS/HTML colour to 6 lower-case hex digits; undefined when not recognised. */
export function color(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.trim().toLowerCase().replace(/\s*!important$/, '');
  const named = NAMED[s];
  if (named) return named;
  let m = /^#?([0-9a-f]{6})$/.exec(s);
  if (m) return m[1];
  m = /^#?([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(s);
  if (m) return `${m[1]}${m[1]}${m[2]}${m[2]}${m[3]}${m[3]}`;
  m = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/.exec(s);
  if (m) return [m[1], m[2], m[3]].map((x) => Math.min(255, Number(x)).toString(16).padStart(2, '0')).join('');
  return undefined;
}
