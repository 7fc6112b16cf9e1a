/**
 * Per-check config slices of the DNS-based checks (composed into `checks:` by checks.ts):
 * `checks.spf`, `checks.auth` (DKIM, DMARC, ARC, Authentication-Results), `checks.dnsbl`,
 * `checks.uribl`, `checks.helo`, `checks.fcrdns`, `checks.sender_domain`.
 * Each check's deadline stays above dns.timeoutMs so a slow query ends as a *_DNSFAIL symbol
 * before the check itself times out (ARCHITECTURE habit 4).
 */
import { z } from 'zod';

const enabled = z.boolean().default(true);
const timeoutMs = (ms: number) => z.number().int().positive().default(ms);
const SYMBOL = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'symbol names are UPPER_SNAKE');
const LIST_NAME = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'list names are UPPER_SNAKE (they name the *_BLOCKED/*_DNSFAIL symbols)');
const ZONE = z.string().regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'a DNS zone such as zen.spamhaus.org');
const A_RECORD = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'a 127.x.y.z return code');
/** A return code, or a pattern with `*` octets (DNSWL: 127.0.*.3). */
const A_PATTERN = z.string().regex(/^127(\.(\d{1,3}|\*)){3}$/, 'a 127.x.y.z return code (an octet may be *)');

export const spfCheckSchema = z
  .object({
    enabled,
    /** RFC 7208 §4.6.4 asks for ≥ 20 s overall; 10 lookups × dns.timeoutMs bounds it anyway. */
    timeoutMs: timeoutMs(10_000),
    maxResolveCount: z.number().int().positive().default(10),
    maxVoidCount: z.number().int().positive().default(2),
  })
  .strict()
  .prefault({});

export const authCheckSchema = z
  .object({
    enabled,
    timeoutMs: timeoutMs(10_000),
    /** DKIM/ARC keys shorter than this are a policy failure (RFC 8301 §3.2: ≥ 1024). */
    minBitLength: z.number().int().positive().default(1024),
    arc: z.boolean().default(true),
    dmarc: z.boolean().default(true),
  })
  .strict()
  .prefault({});

const codeSymbol = z.object({ symbol: SYMBOL, score: z.number(), description: z.string().optional() }).strict();

const dnsList = z
  .object({
    /** UPPER_SNAKE; names the derived RBL_<NAME>_BLOCKED / RBL_<NAME>_DNSFAIL symbols. */
    name: LIST_NAME,
    /** Zone queried, e.g. zen.spamhaus.org, or <key>.zen.dq.spamhaus.net for DQS. */
    zone: ZONE,
    ipv4: z.boolean().default(true),
    ipv6: z.boolean().default(true),
    /** A record → symbol and score; a negative score makes it an allow list (DNSWL). */
    returnCodes: z.record(A_PATTERN, codeSymbol).default({}),
    /** Lists that answer a bit mask in the last octet (SURBL, URIBL multi): bit value → symbol. */
    bitmask: z.record(z.string().regex(/^\d+$/), codeSymbol).optional(),
    /** Extra error answers besides 127.255.255.0/24, e.g. DNSWL's 127.0.0.255. */
    errorCodes: z.array(A_RECORD).default([]),
  })
  .strict();

export const dnsblCheckSchema = z
  .object({
    enabled,
    timeoutMs: timeoutMs(4_000),
    /** After an error answer (127.255.255.x: refused/rate limited) skip the list this long (SA dns_block_time). */
    backoffSec: z.number().int().nonnegative().default(300),
    /** RFC 5782 §5 health probes every N s (0 = off); a list failing them is not trusted until it passes. */
    healthIntervalSec: z.number().int().nonnegative().default(300),
    lists: z.array(dnsList).default([]),
  })
  .strict()
  .prefault({});

export const uriblCheckSchema = z
  .object({
    enabled,
    timeoutMs: timeoutMs(5_000),
    /** Distinct registrable domains (and IP literals) looked up per message. */
    maxDomains: z.number().int().positive().default(20),
    backoffSec: z.number().int().nonnegative().default(300),
    /** Look IP-literal links up too (reversed, as DNSBLs do). */
    ipLiterals: z.boolean().default(true),
    lists: z.array(dnsList).default([]),
  })
  .strict()
  .prefault({});

export const heloCheckSchema = z.object({ enabled, timeoutMs: timeoutMs(4_000) }).strict().prefault({});
export const fcrdnsCheckSchema = z
  .object({
    enabled,
    timeoutMs: timeoutMs(5_000),
    /** PTR names checked forward at most (a PTR set can be long). */
    maxNames: z.number().int().positive().default(5),
  })
  .strict()
  .prefault({});
export const senderDomainCheckSchema = z.object({ enabled, timeoutMs: timeoutMs(4_000) }).strict().prefault({});

export const dnsCheckSections = {
  spf: spfCheckSchema,
  auth: authCheckSchema,
  dnsbl: dnsblCheckSchema,
  uribl: uriblCheckSchema,
  helo: heloCheckSchema,
  fcrdns: fcrdnsCheckSchema,
  sender_domain: senderDomainCheckSchema,
};

export type DnsListConfig = z.infer<typeof dnsList>;
