/**
 * The configuration schema: one zod object per section, composed here. Validation lists every
 * problem at once with its key path; the loader adds file:line (see loader.ts).
 *
 * Sections owned by later features live in their own files under ./sections/ and are composed
 * below, so each feature extends only its own slice (ARCHITECTURE habit 6).
 */
import { z } from 'zod';
import { cidr, hostPort, listenList } from './types.js';
import { checksSection } from './sections/checks.js';
import { redisSection } from './sections/redis.js';
import { dnsSection } from './sections/dns.js';
import { policySection } from './sections/policy.js';

const limitsSection = z
  .object({
    /** Bytes; RFC 1870 SIZE advertised and enforced. */
    maxMessageSize: z.number().int().positive().default(25 * 1024 * 1024),
    maxClients: z.number().int().positive().default(1000),
    maxClientsPerIp: z.number().int().positive().default(20),
    maxRecipients: z.number().int().positive().default(100),
    /** Idle/slow client timeout per command (RFC 5321 §4.5.3.2 says servers wait ≥ 5 min; ISPs use less). */
    socketTimeoutMs: z.number().int().positive().default(120_000),
    /** SIGTERM: how long in-flight transactions may take to finish before the rest get 421 4.3.2. */
    drainTimeoutMs: z.number().int().nonnegative().default(30_000),
  })
  .strict()
  .prefault({});

const downstreamSection = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(10025),
    tls: z.enum(['off', 'opportunistic', 'required']).default('off'),
    /** Verify the downstream certificate when TLS is used. */
    tlsVerify: z.boolean().default(false),
    xforward: z.boolean().default(true),
    xclient: z.boolean().default(false),
    /** Send the message with BDAT (RFC 3030) when the downstream offers CHUNKING: no 354 round trip, no dot-stuffing. */
    chunking: z.boolean().default(true),
    /** Name sent in our EHLO to the downstream; defaults to `hostname`. */
    helo: z.string().optional(),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    /** Deadline per relayed command (well inside RFC 5321 §4.5.3.2 client timeouts). */
    commandTimeoutMs: z.number().int().positive().default(60_000),
    /** Deadline for the reply to the final dot (RFC 5321 gives clients 10 min; we stay well inside). */
    dataTimeoutMs: z.number().int().positive().default(120_000),
  })
  .strict()
  .prefault({});

const tlsSection = z
  .object({ key: z.string().optional(), cert: z.string().optional() })
  .strict()
  .prefault({})
  .refine((t) => (t.key === undefined) === (t.cert === undefined), {
    message: 'tls.key and tls.cert must be set together',
  });

const actionsSection = z
  .object({
    greylist: z.number().default(4),
    tag: z.number().default(6),
    reject: z.number().default(15),
    /** Prefix added to the Subject when tagging, e.g. "[SPAM] "; unset = subject unchanged. */
    subjectPrefix: z.string().optional(),
    /** Reject at RCPT when connect/helo/mail evidence alone already reaches `reject` (off: decide after DATA). */
    earlyReject: z.boolean().default(false),
  })
  .strict()
  .prefault({});

const rulesSection = z
  .object({
    paths: z.array(z.string()).default(['rules']),
    /** SpamAssassin .cf files or folders to import (read where the admin has them). */
    spamassassin: z.array(z.string()).default([]),
    /** Reload when a rule file changes (SIGHUP always reloads). */
    watch: z.boolean().default(true),
    /**
     * Bytes of each body (decoded text, HTML, raw body) that content rules scan; the rest of a large
     * message is not scanned (spam payloads sit at the top; regex work stays linear in this cap).
     */
    bodyScanBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(128 * 1024),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    listen: listenList.default(['0.0.0.0:25']),
    hostname: z.string().min(1).default('localhost'),
    workers: z.union([z.number().int().positive(), z.literal('auto')]).default(1),
    downstream: downstreamSection,
    limits: limitsSection,
    tls: tlsSection,
    proxyProtocol: z
      .object({ trusted: z.array(z.string()).default([]), timeoutMs: z.number().int().positive().default(5000) })
      .strict()
      .prefault({}),
    /**
     * smtpd_proxy_filter mode: MTAs in front of us (IP addresses) whose XFORWARD we believe; the
     * client identity they pass (ADDR, NAME, HELO, PORT) then replaces theirs (XFORWARD_README).
     */
    upstream: z
      .object({
        xforwardFrom: z.array(z.string()).default([]),
        /**
         * Clients whose MAIL FROM `AUTH=<mailbox>` (RFC 4954 §5) names the authenticated submitter: a
         * submission server or relay in front of spamgate. From anyone else AUTH= is only a claim
         * (RFC 4954 §5). Two consumers, one fact about an upstream: the per-login rate limit
         * (`checks.ratelimit.auth`) and the relay, which passes these clients' `AUTH=<mailbox>` on to
         * a downstream offering AUTH and sends `AUTH=<>` for everyone else
         * (frontends/smtp/downstream-session.ts).
         */
        trustAuthFrom: z.array(cidr).default([]),
      })
      .strict()
      .prefault({}),
    dns: dnsSection,
    redis: redisSection,
    admin: z.object({ listen: hostPort.optional() }).strict().prefault({}),
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    actions: actionsSection,
    /** Score overrides: SYMBOL → score. Naming an unknown symbol fails at boot. */
    scores: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'symbol names are UPPER_SNAKE'), z.number()).default({}),
    rules: rulesSection,
    policy: policySection,
    checks: checksSection,
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
