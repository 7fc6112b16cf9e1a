/**
 * Replaces mailauth 4.13.x's header/body split (`MessageParser.prototype.processChunk`,
 * lib/dkim/message-parser.js) with an equivalent that finds the end of the header section with
 * `Buffer.indexOf`.
 *
 * Why: the original walks the header section byte by byte and, for every byte, pushes it onto an
 * array and then replaces that array with `slice(-4)` — a new array per header byte. For the
 * bench's 10 KB DKIM-signed message that was ≈ 170 KB of garbage per message, 22 % of everything
 * the daemon allocates per message (V8 allocation sampling of `spamgate serve`, minor GCs
 * included), and the minor GCs it causes are what sets a lone transaction's latency tail.
 *
 * Same behaviour for every input and every chunking: the header section ends at the first LF
 * preceded by LF, or by CR preceded by LF (the original's test, bytes carried across chunks);
 * `headerChunks`, `headers`, `state`, the body chunks passed on and `stateBytes` (the last ≤ 4 bytes
 * seen while in the header state) are what the original leaves. test/unit/checks/auth/
 * mailauth-header-scan.test.ts runs both on generated messages and chunkings.
 *
 * Depends on mailauth 4.13.x internals: installs only on 4.13.x when the class and method exist;
 * otherwise mailauth runs unchanged and `headerScanStats().reason` says why. Unlike the key cache,
 * load order does not matter (the verifier and signer inherit the method through the prototype).
 */
import { requireMailauth, unknownMailauth } from './mailauth-internals.js';

interface ParserState {
  state: string;
  stateBytes: number[];
  headers: unknown;
  headerChunks: Buffer[];
  messageHeaders(headers: unknown): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
}
type ProcessChunk = (this: ParserState, chunk: Buffer) => Promise<void>;

const LF = 0x0a;
const CR = 0x0d;
const stats = { active: false, reason: '' };
let original: ProcessChunk | undefined;

export function headerScanStats(): { readonly active: boolean; readonly reason: string } {
  return { ...stats };
}

/** mailauth's own method, for the equivalence test (undefined when not installed). */
export function originalProcessChunk(): ProcessChunk | undefined {
  return original;
}

/** Byte `j` of `chunk`, or for j < 0 of the bytes seen before it (`prev`, oldest first). */
function byteAt(prev: readonly number[], chunk: Buffer, j: number): number | undefined {
  return j >= 0 ? chunk[j] : prev[prev.length + j];
}

/** Index in `chunk` of the LF that ends the header section, or -1. */
export function findHeaderEnd(prev: readonly number[], chunk: Buffer): number {
  for (let from = 0; ; ) {
    const i = chunk.indexOf(LF, from);
    if (i < 0) return -1;
    const b1 = byteAt(prev, chunk, i - 1);
    if (b1 === LF || (b1 === CR && byteAt(prev, chunk, i - 2) === LF)) return i;
    from = i + 1;
  }
}

/** The last ≤ 4 bytes of prev followed by `bytes`, as the original keeps them. */
function lastBytes(prev: readonly number[], bytes: Buffer): number[] {
  const out = bytes.length >= 4 ? [] : prev.slice(Math.max(0, prev.length - (4 - bytes.length)));
  for (let i = Math.max(0, bytes.length - 4); i < bytes.length; i++) out.push(bytes[i]!);
  return out;
}

function fastProcessChunk(parseHeaders: (b: Buffer) => unknown): ProcessChunk {
  return async function processChunk(this: ParserState, chunk: Buffer): Promise<void> {
    if (!chunk || !chunk.length) return;
    if (this.state === 'header') {
      const end = findHeaderEnd(this.stateBytes, chunk);
      if (end >= 0) {
        this.state = 'body';
        this.stateBytes = lastBytes(this.stateBytes, chunk.subarray(0, end + 1));
        if (end === chunk.length - 1) {
          this.headerChunks.push(chunk);
          this.headers = parseHeaders(Buffer.concat(this.headerChunks));
          await this.messageHeaders(this.headers);
          return;
        }
        this.headerChunks.push(chunk.slice(0, end + 1));
        this.headers = parseHeaders(Buffer.concat(this.headerChunks));
        await this.messageHeaders(this.headers);
        chunk = chunk.slice(end + 1);
      } else {
        this.stateBytes = lastBytes(this.stateBytes, chunk);
      }
    }
    if (this.state !== 'body') {
      this.headerChunks.push(chunk);
      return;
    }
    await this.nextChunk(chunk);
  };
}

function install(): void {
  try {
    const unknown = unknownMailauth();
    if (unknown) return void (stats.reason = unknown);
    const { MessageParser } = requireMailauth('mailauth/lib/dkim/message-parser') as { MessageParser?: { prototype: Record<string, unknown> } };
    const { parseHeaders } = requireMailauth('mailauth/lib/tools') as { parseHeaders?: unknown };
    const proto = MessageParser?.prototype;
    if (!proto || typeof proto.processChunk !== 'function' || typeof parseHeaders !== 'function')
      return void (stats.reason = 'MessageParser.processChunk or parseHeaders not found');
    if ((proto as { [k: symbol]: unknown })[Symbol.for('spamgate.headerScan')])
      return void Object.assign(stats, { active: true, reason: 'installed by another copy' });
    original = proto.processChunk as ProcessChunk;
    proto.processChunk = fastProcessChunk(parseHeaders as (b: Buffer) => unknown);
    (proto as { [k: symbol]: unknown })[Symbol.for('spamgate.headerScan')] = true;
    Object.assign(stats, { active: true, reason: 'installed' });
  } catch (err) {
    stats.reason = `not installed: ${(err as Error).message}`;
  }
}

install();
