/** Small pure pieces of the service: templates, text, ids, time, CLI flags. */
import { describe, expect, it } from 'vitest';
import type { ValueSet } from '@medplum/fhirtypes';
import { Command } from 'commander';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { prefetchQueriesFor, templatesOf } from '../../src/server/cds/prefetch-templates.ts';
import { lookbackStart, queryUrl } from '../../src/server/cds/fhir-fetch.ts';
import { searchParamFor } from '../../src/server/search-params.ts';
import { IssuedCards } from '../../src/server/cds/issued-cards.ts';
import { FeedbackStore, type FeedbackRecord } from '../../src/server/cds/feedback.ts';
import { escapeMarkdown, truncateSummary } from '../../src/server/cds/render.ts';
import { nameBasedUuid } from '../../src/util/name-based-uuid.ts';
import { formatNow } from '../../src/server/clock.ts';
import { registerServe, serveConfigFrom } from '../../src/cli/commands/serve.ts';
import { parseServerConfig } from '../../src/server/app.ts';

const vs = (url: string, compose: ValueSet['compose']): ValueSet => ({ resourceType: 'ValueSet', url, status: 'active', compose });

describe('prefetch templates', () => {
  const kb = compileKnowledge([
    vs('http://x/vs/small', { include: [{ system: 'http://snomed.info/sct', concept: [{ code: '1' }, { code: '2' }] }] }),
    vs('http://x/vs/filtered', { include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '3' }] }] }),
  ]);

  it('expands enumerable ValueSets, uses :in for the rest, dedupes identical searches, keys by input id', () => {
    const templates = templatesOf(
      prefetchQueriesFor(
        [
          { id: 'a', type: 'Condition', codeFilter: [{ path: 'code', valueSet: 'http://x/vs/small' }] },
          { id: 'b', type: 'Condition', codeFilter: [{ path: 'code', valueSet: 'http://x/vs/filtered' }] },
          { id: 'c', type: 'Condition', codeFilter: [{ path: 'code', valueSet: 'http://x/vs/small' }], dateFilter: [{ path: 'onset', valueDuration: { value: 7, code: 'd' } }] },
          { id: 'd', type: 'Observation', codeFilter: [{ path: 'status', code: [{ code: 'final' }] }] },
          { id: 'e', type: 'Patient' },
          { type: 'MedicationRequest', codeFilter: [{ path: 'medicationCodeableConcept', code: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1223' }] }] },
        ],
        kb,
      ),
    );
    expect(templates).toEqual({
      patient: 'Patient/{{context.patientId}}',
      a: 'Condition?patient={{context.patientId}}&code=http://snomed.info/sct|1,http://snomed.info/sct|2',
      b: 'Condition?patient={{context.patientId}}&code:in=http://x/vs/filtered',
      d: 'Observation?patient={{context.patientId}}&status=final',
      'MedicationRequest-6': 'MedicationRequest?patient={{context.patientId}}&code=http://www.nlm.nih.gov/research/umls/rxnorm|1223',
    });
  });
});

describe('prefetch search parameters and dates', () => {
  const kb = compileKnowledge([]);
  const days = (value: number) => ({ value, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' });

  it('names the base specification search parameter of the filtered element, never the element name', () => {
    expect(searchParamFor('DocumentReference', 'type', 'token')).toBe('type');
    expect(searchParamFor('Observation', 'value', 'token')).toBe('value-concept');
    expect(searchParamFor('Observation', 'valueCodeableConcept', 'token')).toBe('value-concept');
    expect(searchParamFor('Observation', 'code', 'token')).toBe('code');
    expect(searchParamFor('MedicationRequest', 'medicationCodeableConcept', 'token')).toBe('code');
    expect(searchParamFor('Observation', 'effective', 'date')).toBe('date');
    expect(searchParamFor('Condition', 'onset', 'date')).toBe('onset-date');
    expect(searchParamFor('Observation', 'value', 'date')).toBe('value-date');
    expect(searchParamFor('Observation', 'interpretation', 'token')).toBeUndefined();
  });

  it('writes absolute dates as ge/le (overlap, as the engine filters), keeps relative ones out of the template as a look-back', () => {
    const queries = prefetchQueriesFor(
      [
        { id: 'permit', type: 'DocumentReference', codeFilter: [{ path: 'type', code: [{ system: 'http://x', code: 'permit' }] }] },
        {
          id: 'status',
          type: 'Observation',
          codeFilter: [
            { path: 'code', code: [{ system: 'http://loinc.org', code: '82810-3' }] },
            { path: 'value', code: [{ system: 'http://snomed.info/sct', code: '60001007' }] },
          ],
        },
        { id: 'since2026', type: 'Procedure', dateFilter: [{ path: 'performed', valuePeriod: { start: '2026-01-01', end: '2026-06-30T23:59:59+08:00' } }] },
        {
          id: 'week',
          type: 'Observation',
          codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '2106-3' }] }],
          dateFilter: [{ path: 'effective', valueDuration: days(7) }],
        },
        {
          id: 'month',
          type: 'Observation',
          codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '2106-3' }] }],
          dateFilter: [{ path: 'effective', valueDuration: days(30) }],
        },
        {
          id: 'cbc',
          type: 'Observation',
          codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '57021-8' }] }],
          dateFilter: [{ path: 'effective', valueDuration: days(30) }],
        },
        { id: 'cbcAny', type: 'Observation', codeFilter: [{ path: 'code', code: [{ system: 'http://loinc.org', code: '57021-8' }] }] },
      ],
      kb,
    );
    expect(templatesOf(queries)).toEqual({
      patient: 'Patient/{{context.patientId}}',
      permit: 'DocumentReference?patient={{context.patientId}}&type=http://x|permit',
      status: 'Observation?patient={{context.patientId}}&code=http://loinc.org|82810-3&value-concept=http://snomed.info/sct|60001007',
      since2026: 'Procedure?patient={{context.patientId}}&date=ge2026-01-01&date=le2026-06-30T23:59:59%2B08:00',
      week: 'Observation?patient={{context.patientId}}&code=http://loinc.org|2106-3',
      cbc: 'Observation?patient={{context.patientId}}&code=http://loinc.org|57021-8',
    });
    const byKey = Object.fromEntries(queries.map((q) => [q.key, q]));
    // One template read for 7 and 30 days: the service's own read covers the longer one.
    expect(byKey['week']?.lookback).toEqual({ param: 'date', durations: [days(7), days(30)] });
    // One of the two requirements has no look-back: the read must not be bounded.
    expect(byKey['cbc']?.lookback).toBeUndefined();
    expect(lookbackStart({ param: 'date', durations: [days(7), days(30)] }, '2026-05-20T09:00:00.000+08:00')).toBe('2026-04-19');
    expect(queryUrl('https://ehr/fhir', byKey['week']!, 'p 1', '2026-05-20T09:00:00.000Z')).toBe(
      'https://ehr/fhir/Observation?patient=p+1&code=http%3A%2F%2Floinc.org%7C2106-3&date=ge2026-04-19',
    );
    expect(queryUrl('https://ehr/fhir', byKey['since2026']!, 'p1')).toBe('https://ehr/fhir/Procedure?patient=p1&date=ge2026-01-01&date=le2026-06-30T23%3A59%3A59%2B08%3A00');
  });
});

describe('bounded memory for feedback', () => {
  const card = (uuid: string) => ({ uuid, summary: 's', indicator: 'info' as const, source: { label: 'l' }, suggestions: [{ label: 'x', uuid: `${uuid}-s`, actions: [] }] });

  it('issued cards: the oldest are forgotten past maxCards, and re-issuing a card refreshes it', () => {
    let now = 0;
    const issued = new IssuedCards({ retentionMs: 1000, maxCards: 3, now: () => now });
    issued.record('svc', 'patient-view', 'p|1', [card('a'), card('b'), card('c')], 'iss');
    issued.record('svc', 'patient-view', 'p|1', [card('a')], 'iss');
    issued.record('svc', 'patient-view', 'p|1', [card('d')], 'iss');
    expect(issued.size).toBe(3);
    expect(issued.find('svc', 'b')).toBeUndefined();
    expect(issued.find('svc', 'a')?.suggestionUuids).toEqual(['a-s']);
    expect(issued.find('other-svc', 'a')).toBeUndefined();
    now = 1001;
    expect(issued.find('svc', 'a')).toBeUndefined();
    issued.record('svc', 'patient-view', 'p|1', [card('e')], 'iss');
    expect(issued.size).toBe(1);
  });

  it('the in-memory feedback view keeps only the most recent records', async () => {
    const store = new FeedbackStore(undefined, 2);
    const record = (card: string) =>
      ({
        card,
        outcome: 'overridden',
        outcomeTimestamp: '2026-01-01T00:00:00Z',
        serviceId: 's',
        receivedAt: 'r',
        issued: { hook: 'h', indicator: 'info', protocol: 'p', issuedAt: 'i' },
      }) as FeedbackRecord;
    await store.add([record('1'), record('2')]);
    await store.add([record('3')]);
    expect(store.all().map((r) => r.card)).toEqual(['2', '3']);
  });
});

describe('card text', () => {
  it('keeps summaries under 140 characters, cutting at a word and never inside a surrogate pair', () => {
    const long = `${'word '.repeat(40)}end`;
    const cut = truncateSummary(long);
    expect(Array.from(cut).length).toBeLessThan(140);
    expect(cut.endsWith('word…')).toBe(true);
    const emoji = '😀'.repeat(200);
    const cutEmoji = truncateSummary(emoji);
    expect(Array.from(cutEmoji).length).toBe(139);
    expect(cutEmoji.slice(0, -1)).toBe('😀'.repeat(138));
    expect(truncateSummary('  short   text ')).toBe('short text');
  });

  it('escapes record text so it cannot become a link, HTML or emphasis', () => {
    expect(escapeMarkdown('[click](http://evil) <b>x</b> *y* _z_\nnext')).toBe('\\[click\\](http://evil) \\<b\\>x\\</b\\> \\*y\\* \\_z\\_ next');
  });
});

describe('ids and time', () => {
  it('name-based uuids are stable, distinct per input and RFC-shaped', () => {
    const a = nameBasedUuid('svc', 'hook-1', 'content');
    expect(a).toBe(nameBasedUuid('svc', 'hook-1', 'content'));
    expect(a).not.toBe(nameBasedUuid('svc', 'hook-2', 'content'));
    expect(nameBasedUuid('ab', 'c')).not.toBe(nameBasedUuid('a', 'bc'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('writes now with the configured offset (the clinic calendar day)', () => {
    const d = new Date('2026-11-23T20:30:00Z');
    expect(formatNow(d, 'Z')).toBe('2026-11-23T20:30:00.000Z');
    expect(formatNow(d, '+08:00')).toBe('2026-11-24T04:30:00.000+08:00');
    expect(formatNow(d, '-05:00')).toBe('2026-11-23T15:30:00.000-05:00');
  });
});

describe('serve command and config', () => {
  it('registers `serve` with its flags on a commander program', () => {
    const program = new Command();
    registerServe(program, { stdout: () => {}, stderr: () => {}, readStdin: () => Promise.resolve(''), isTTY: false, env: {}, clock: () => new Date(0) }, () => {});
    const serve = program.commands.find((c) => c.name() === 'serve');
    expect(serve?.options.map((o) => o.long)).toEqual([
      '--config',
      '--port',
      '--host',
      '--base-url',
      '--cors-origin',
      '--feedback-file',
      '--log-level',
      '--now',
      '--redis',
      '--no-auth',
    ]);
  });

  it('turns flags into a config the schema accepts; --no-auth disables auth; a bad port is refused', () => {
    const config = serveConfigFrom({ port: '9090', auth: false, corsOrigin: ['https://ehr.example.org'] });
    expect(config).toMatchObject({ port: 9090, baseUrl: 'http://127.0.0.1:9090', auth: { required: false }, corsOrigins: ['https://ehr.example.org'] });
    expect(parseServerConfig(config).auth.required).toBe(false);
    expect(() => parseServerConfig(serveConfigFrom({ port: 'eighty', auth: false }))).toThrow(/port/);
    expect(() => parseServerConfig({ baseUrl: 'not a url', auth: { required: false } })).toThrow(/baseUrl/);
    expect(() => parseServerConfig({ baseUrl: 'https://x', auth: { trustedIssuers: [{ iss: 'a', jwks: { keys: [{ kty: 'EC', d: 'secret' }] } }] } })).toThrow(/public keys/);
  });
});
