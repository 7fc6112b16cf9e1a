/**
 * Rule vocabulary: what a rule file declares (RuleSpec), what the compiler produces (CompiledRule),
 * and the active RuleSet the `rules` check evaluates. See docs/rules.md for the file format.
 */
import type RE2 from 're2';
import type { Envelope } from '../core/types.js';
import type { ParsedMessage } from '../message/index.js';

/** Where a rule came from, for error messages and reports. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

/** A problem in a rule file, always with file:line (ARCHITECTURE habit 5). */
export interface RuleProblem extends SourcePos {
  readonly column?: number;
  /** Rule id when the problem belongs to one rule. */
  readonly rule?: string;
  readonly message: string;
}

export function formatRuleProblem(p: RuleProblem): string {
  return `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}: ${p.rule ? `${p.rule}: ` : ''}${p.message}`;
}

export const CATEGORIES = [
  'phishing',
  'malware',
  'fraud',
  'commercial',
  'adult',
  'backscatter',
  'header',
  'obfuscation',
  'test',
  'spamassassin',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** A regex as written: source pattern + flags (RE2 syntax). */
export interface RegexSpec {
  readonly source: string;
  readonly flags: string;
}

export type HeaderPart = 'decoded' | 'raw' | 'addr' | 'name';

/** The one test a rule performs. */
export type TestSpec =
  | { readonly kind: 'header'; readonly name: string; readonly part: HeaderPart; readonly exists?: boolean; readonly regex?: RegexSpec; readonly negate?: boolean; readonly ifUnset?: string }
  | { readonly kind: 'body' | 'rawbody' | 'full'; readonly regex: RegexSpec }
  | { readonly kind: 'uri'; readonly target: 'url' | 'domain' | 'host'; readonly regex?: RegexSpec; readonly ipLiteral?: boolean; readonly punycode?: boolean }
  | {
      readonly kind: 'attachment';
      readonly name?: RegexSpec;
      readonly extensions?: readonly string[];
      readonly doubleExtension?: boolean;
      readonly contentType?: RegexSpec;
      readonly sniffed?: readonly string[];
      readonly typeMismatch?: boolean;
      readonly archiveEntry?: RegexSpec;
      readonly archiveExtensions?: readonly string[];
    }
  | { readonly kind: 'size'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'meta'; readonly expr: string }
  | { readonly kind: 'eval'; readonly name: string; readonly args: Readonly<Record<string, unknown>> };

/** One rule as declared, before compilation. */
export interface RuleSpec {
  readonly id: string;
  readonly description: string;
  readonly score: number;
  readonly category: string;
  readonly test: TestSpec;
  readonly pos: SourcePos;
  /** Line of the test itself (e.g. the `body:` key), for compile errors. */
  readonly testLine: number;
  /** Where this rule came from: our YAML files or a SpamAssassin import. */
  readonly source: 'yaml' | 'spamassassin';
}

/** What a rule test sees of a message. */
export interface RuleInput {
  readonly msg: ParsedMessage;
  readonly envelope: Envelope;
  /** Evaluation clock (ms since epoch); injectable for tests. */
  readonly now: number;
  /** Per-message lazily built UTF-8 buffers of the scan targets (RE2 matches Buffers without re-encoding). */
  readonly targets: ScanTargets;
}

export interface ScanTargets {
  body(): Buffer;
  rawbody(): Buffer;
  full(): Buffer;
  /** One Buffer per entry of `msg.uris` (same order): the URL, registrable domain or host. */
  uris(target: 'url' | 'domain' | 'host'): readonly Buffer[];
  /**
   * The value a header test scans (`ALL`, or every field of that name joined by newlines, in the
   * given part), or undefined when the header is absent. Cached per message.
   */
  header(lname: string, part: HeaderPart): Buffer | undefined;
}

/** A test: undefined = no hit; otherwise the options to report (possibly empty). */
export type TestFn = (input: RuleInput) => readonly string[] | undefined;

export interface CompiledRule {
  readonly id: string;
  readonly description: string;
  readonly score: number;
  readonly category: string;
  readonly kind: TestSpec['kind'];
  readonly pos: SourcePos;
  readonly source: 'yaml' | 'spamassassin';
  /** `__`-prefixed rules are sub-rules for metas: evaluated, never reported. */
  readonly reported: boolean;
  /** Non-meta tests. */
  readonly test?: TestFn;
  /** Meta tests: evaluated over the hit vector (indexes into RuleSet.rules). */
  readonly meta?: (hits: Uint8Array) => boolean;
}

export interface SkippedRule {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** Counts for `check-config --json`. */
export interface RuleSetStats {
  readonly rules: { readonly loaded: number; readonly files: readonly string[] };
  readonly spamassassin: {
    readonly files: readonly string[];
    readonly loaded: number;
    readonly skipped: number;
    /** reason category → count */
    readonly skippedReasons: Readonly<Record<string, number>>;
  };
}

/** An immutable compiled rule set. Non-meta rules come first, metas after in dependency order. */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly byId: ReadonlyMap<string, number>;
  readonly stats: RuleSetStats;
  readonly skipped: readonly SkippedRule[];
  /** Every file the set was loaded from (for watching). */
  readonly files: readonly string[];
}

export type { RE2 };
