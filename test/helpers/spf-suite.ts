/**
 * Loads the openspf RFC 7208 test suite (test/fixtures/auth/spf/rfc7208-tests.yml) into fixture
 * zones for the loopback DNS server, following the suite's driver conventions (pyspf testspf.py):
 * SPF-type records double as TXT unless the name has TXT records; `SPF: NONE` means none;
 * a bare `TIMEOUT` makes every type without records listed before it time out; `{A: TIMEOUT}`
 * times out that type only.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { FixtureRecord, FixtureType, NameBehaviour } from './dns-server.js';

export interface SpfCase {
  readonly scenario: string;
  readonly id: string;
  readonly spec?: string;
  readonly description?: string;
  readonly helo: string;
  readonly host: string;
  readonly mailfrom: string;
  readonly result: readonly string[];
}
export interface SpfScenario {
  readonly description: string;
  readonly records: Record<string, FixtureRecord[]>;
  readonly behaviours: Record<string, NameBehaviour>;
  readonly cases: SpfCase[];
}

const TYPES: readonly FixtureType[] = ['A', 'AAAA', 'TXT', 'MX', 'PTR', 'CNAME'];

export function loadSpfSuite(file: string): SpfScenario[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.map((doc) => {
    const d = doc.toJS() as {
      description: string;
      zonedata: Record<string, (Record<string, unknown> | string)[]>;
      tests: Record<string, Record<string, unknown>>;
    };
    const records: Record<string, FixtureRecord[]> = {};
    const behaviours: Record<string, NameBehaviour> = {};
    for (const [rawName, entries] of Object.entries(d.zonedata ?? {})) {
      const name = rawName.toLowerCase();
      const recs: FixtureRecord[] = [];
      const spf: FixtureRecord[] = [];
      let hasTxt = false;
      let timeout = false;
      const typesBeforeTimeout = new Set<string>();
      for (const e of entries) {
        if (e === 'TIMEOUT') {
          timeout = true;
          continue;
        }
        if (typeof e !== 'object' || e === null) continue;
        for (const [t, v] of Object.entries(e)) {
          if (v === 'TIMEOUT') {
            behaviours[`${t} ${name}`] = 'TIMEOUT';
            continue;
          }
          // `NONE` = no record (pyspf drops it); generated TXT copies of SPF come after the list,
          // so they never shield TXT from a TIMEOUT listed in it.
          if (v === 'NONE' && (t === 'SPF' || t === 'TXT')) {
            if (t === 'TXT') hasTxt = true;
            continue;
          }
          if (!timeout && t !== 'SPF') typesBeforeTimeout.add(t);
          const text = (x: unknown) => (Array.isArray(x) ? x.map(String) : String(x));
          if (t === 'SPF') {
            spf.push({ type: 'TXT', data: text(v), ttl: 60 });
          } else if (t === 'TXT') {
            hasTxt = true;
            recs.push({ type: 'TXT', data: text(v), ttl: 60 });
          } else if (t === 'MX') {
            const [prio, host] = v as [number, string];
            recs.push({ type: 'MX', data: { priority: Number(prio), exchange: String(host) }, ttl: 60 });
          } else if ((TYPES as readonly string[]).includes(t)) {
            recs.push({ type: t as FixtureType, data: String(v), ttl: 60 });
          }
        }
      }
      if (!hasTxt) recs.push(...spf);
      records[name] = recs;
      if (timeout) {
        behaviours[name] = 'TIMEOUT';
        for (const t of typesBeforeTimeout) behaviours[`${t} ${name}`] = 'ANSWER';
      }
    }
    const cases = Object.entries(d.tests).map(([id, t]) => ({
      scenario: d.description,
      id,
      spec: t.spec === undefined ? undefined : String(t.spec),
      description: t.description === undefined ? undefined : String(t.description),
      helo: String(t.helo ?? ''),
      host: String(t.host),
      mailfrom: t.mailfrom === undefined || t.mailfrom === null ? '' : String(t.mailfrom),
      result: ([] as unknown[]).concat(t.result).map(String),
    }));
    return { description: d.description, records, behaviours, cases };
  });
}
