/**
 * The header/body split replacing mailauth's MessageParser.processChunk
 * (src/checks/auth/mailauth-header-scan.ts) must leave exactly what the original leaves — header
 * chunks, parsed headers, state, stateBytes and the body chunks passed on — for any message and
 * any chunking, and must be the method mailauth's DKIM verifier runs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
interface Parser {
  state: string;
  stateBytes: number[];
  headers: unknown;
  headerChunks: Buffer[];
  processChunk(chunk: Buffer): Promise<void>;
}
const { MessageParser } = require('mailauth/lib/dkim/message-parser') as {
  MessageParser: { new (): Parser; prototype: Parser };
};
const { DkimVerifier } = require('mailauth/lib/dkim/dkim-verifier') as { DkimVerifier: { prototype: Parser } };
// Taken before the module under test is loaded (dynamically, in beforeAll).
const originalMethod = MessageParser.prototype.processChunk;

let scan: typeof import('../../../../src/checks/auth/mailauth-header-scan.js');
beforeAll(async () => {
  scan = await import('../../../../src/checks/auth/mailauth-header-scan.js');
});

/** A parser that records what it is handed, driven by `method`. */
function makeParser(method: (this: Parser, c: Buffer) => Promise<void>): Parser & { body: Buffer[]; seenHeaders: number } {
  const p = new MessageParser() as Parser & { body: Buffer[]; seenHeaders: number; messageHeaders(): Promise<void>; nextChunk(c: Buffer): Promise<void> };
  p.body = [];
  p.seenHeaders = 0;
  p.messageHeaders = async () => void p.seenHeaders++;
  p.nextChunk = async (c: Buffer) => void p.body.push(Buffer.from(c));
  p.processChunk = method;
  return p;
}

async function run(method: (this: Parser, c: Buffer) => Promise<void>, chunks: Buffer[]) {
  const p = makeParser(method);
  for (const c of chunks) await p.processChunk(c);
  return {
    state: p.state,
    stateBytes: [...p.stateBytes],
    header: Buffer.concat(p.headerChunks).toString('latin1'),
    headerChunkCount: p.headerChunks.length,
    headers: JSON.stringify(p.headers, (_k, v: unknown) => (v && typeof v === 'object' && 'type' in (v as object) && (v as { type: unknown }).type === 'Buffer' ? `buf:${Buffer.from((v as { data: number[] }).data).toString('latin1')}` : v)),
    seenHeaders: p.seenHeaders,
    body: p.body.map((b) => b.toString('latin1')),
  };
}

/** Deterministic PRNG (mulberry32) so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function chunked(msg: Buffer, next: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < msg.length; ) {
    const n = 1 + Math.floor(next() * (next() < 0.5 ? 4 : 64));
    out.push(msg.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

const fixed = [
  'Subject: a\r\nFrom: b@example.org\r\n\r\nbody\r\n',
  'Subject: a\nFrom: b\n\nbody\n',
  'Subject: a\r\n\r\n',
  '\r\n\r\nbody',
  '\n\nbody',
  '\r\nbody',
  'no blank line at all\r\nX: y\r\n',
  'A: b\r\r\n\r\nx',
  'A: b\n\r\nbody after LF CR LF',
  'A: b\r\n \r\nfolded blank\r\n\r\nbody',
  '',
];

describe('mailauth header scan', () => {
  test('is installed on mailauth 4.13.x and is what the DKIM verifier runs', () => {
    expect(scan.headerScanStats()).toEqual({ active: true, reason: 'installed' });
    expect(scan.originalProcessChunk()).toBe(originalMethod);
    expect(DkimVerifier.prototype.processChunk).not.toBe(originalMethod);
    expect(DkimVerifier.prototype.processChunk).toBe(MessageParser.prototype.processChunk);
  });

  test.each(fixed.map((m) => [JSON.stringify(m)]))('same split as the original for %s, whole and byte by byte', async (json) => {
    const msg = Buffer.from(JSON.parse(json) as string, 'latin1');
    const patched = MessageParser.prototype.processChunk;
    for (const chunks of [[msg], [...msg].map((b) => Buffer.from([b]))]) {
      expect(await run(patched, chunks)).toEqual(await run(originalMethod, chunks));
    }
  });

  test('same split as the original on 3000 generated messages and chunkings', async () => {
    const patched = MessageParser.prototype.processChunk;
    const alphabet = ['\r', '\n', '\r\n', 'a', ':', ' ', 'Subject: x', '\r\n\r\n', '\n\r\n'];
    let differences = 0;
    let bodies = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const next = rng(seed);
      const parts: string[] = [];
      const n = Math.floor(next() * 40);
      for (let i = 0; i < n; i++) parts.push(alphabet[Math.floor(next() * alphabet.length)]!);
      const msg = Buffer.from(parts.join(''), 'latin1');
      const chunks = chunked(msg, next);
      const a = await run(patched, chunks);
      const b = await run(originalMethod, chunks);
      if (a.state === 'body') bodies++;
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        differences++;
        expect({ seed, a }).toEqual({ seed, a: b });
      }
    }
    expect(differences).toBe(0);
    // The generator reaches both outcomes often (a split was found / never found).
    expect(bodies).toBeGreaterThan(500);
    expect(bodies).toBeLessThan(2900);
  });

  test('findHeaderEnd uses the bytes carried over from earlier chunks', () => {
    expect(scan.findHeaderEnd([0x0a], Buffer.from('\nrest'))).toBe(0);
    expect(scan.findHeaderEnd([0x0a, 0x0d], Buffer.from('\nrest'))).toBe(0);
    expect(scan.findHeaderEnd([0x0a], Buffer.from('\r\nrest'))).toBe(1);
    expect(scan.findHeaderEnd([0x61], Buffer.from('\nrest'))).toBe(-1);
    expect(scan.findHeaderEnd([], Buffer.from('a\r\nb\r\n\r\nbody'))).toBe(7);
  });
});
