/**
 * The gate of the FHIRPath fast path: every (expression, input) pair the engine evaluates gives
 * the same result through the fast path as through fhirpath.js (deep-equal, value types
 * included), over every clinical test case and a seeded generated population with edge dates,
 * partial dates, time zones, missing and malformed values; an input fhirpath.js fails on is handed
 * back (so the error is fhirpath.js's). Plus FHIRPath (N1) spec cases for the supported functions.
 */
import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { BAIL, compileFastPath, Unsupported } from '../../src/fhirpath/fast-path/index.ts';
import { clockVariables, compileFhirPath, makeClock } from '../../src/fhirpath/fhirpath-engine.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { patientRecord } from '../../bench/population.ts';
import { captureApply, clinicalCases, compareEvaluations, type CapturedEvaluation } from './capture-evaluations.ts';

const knowledge = loadKnowledge(undefined, { fastPath: false });

function expectAgreement(evaluations: CapturedEvaluation[]): void {
  const comparison = compareEvaluations(evaluations);
  expect(comparison.disagreements.slice(0, 3)).toEqual([]);
  expect(comparison.unsupported).toBe(0);
  expect(comparison.same + comparison.handedBack).toBe(evaluations.length);
}

describe('fast path vs fhirpath.js over the engine', () => {
  it('every evaluation of every plan over every clinical case agrees, none handed back', () => {
    const evaluations = clinicalCases().flatMap((c) => captureApply(knowledge, c.resources, c.now));
    expect(evaluations.length).toBeGreaterThan(10_000);
    const comparison = compareEvaluations(evaluations);
    expect(comparison.disagreements.slice(0, 3)).toEqual([]);
    // The clinical cases are well-formed: the fast path itself answers every one of them.
    expect(comparison.same).toBe(evaluations.length);
  });

  const EDGE_DATES = ['2024-02-29', '2025-02-28', '2026-01-31', '2026-03-31', '2025-12-31', '2026-11-23', '2026-11-22', '1986-11-23', '1986-11-24'];
  // The data boundary refuses a record with a date that is not R4 (checkRecordShape), so malformed
  // dates are rare here: most generated records must reach the engine.
  const date = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...EDGE_DATES) },
    { weight: 5, arbitrary: fc.constantFrom('2026', '2026-11', '1986', '2026-02') }, // partial dates
    {
      weight: 10,
      arbitrary: fc
        .tuple(fc.constantFrom(...EDGE_DATES), fc.constantFrom('T00:00:00', 'T23:59:59', 'T12:30:00.5'), fc.constantFrom('Z', '+14:00', '-12:00', '+08:00'))
        .map(([d, t, z]) => `${d}${t}${z}`), // date-times in many zones
    },
    { weight: 1, arbitrary: fc.constantFrom('2026-02-30', '2026-13-01', '', 'yesterday', '2026-11-23T23:30') }, // malformed
    { weight: 10, arbitrary: fc.date({ min: new Date('1950-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
  );
  const dateOnly = fc.oneof(fc.constantFrom(...EDGE_DATES), fc.constantFrom('1986', '1986-11', '1990-02'));
  const INSTANTS = new Set(['date', 'issued', 'lastUpdated', 'authoredOn']);
  const malformed = fc.constantFrom<unknown>(null, 42, true, 'final', [], {}, [{}], { coding: 'x' }, '2026-11-23');

  /** A mutation of one resource: dates replaced, fields dropped or set to values of the wrong shape. */
  function mutate(value: unknown, random: () => number, pick: <T>(a: fc.Arbitrary<T>) => T, key = ''): unknown {
    if (Array.isArray(value)) return value.map((v) => mutate(v, random, pick, key));
    if (!value || typeof value !== 'object') {
      // Dates as their element's type allows (instants stay: they have no partial form to test).
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !INSTANTS.has(key) && random() < 0.3) return pick(key === 'birthDate' ? dateOnly : date);
      if (random() < 0.001) return pick(malformed);
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === 'resourceType' || key === 'id' || key === 'reference') {
        out[key] = child;
        continue;
      }
      const r = random();
      if (r < 0.02) continue; // missing
      out[key] = mutate(child, random, pick, key);
    }
    return out;
  }

  const NOWS = ['2026-11-23T09:00:00+08:00', '2026-02-28T23:59:59-12:00', '2024-02-29T00:00:00+14:00', '2026-03-31T12:00:00Z', '2026-12-31T23:30:00+05:30'];

  it('a seeded generated population (clinical case records and synthetic patients, mutated) agrees', () => {
    const cases = clinicalCases();
    const seeds = fc.sample(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(...NOWS)), { seed: 20261205, numRuns: 1500 });
    const evaluations: CapturedEvaluation[] = [];
    let refused = 0;
    for (const [index, seed, now] of seeds) {
      // Uniform draws (fast-check's own samples lean to edge values on purpose): mulberry32.
      let state = seed;
      const random = () => {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      let picks = seed;
      const pick = <T>(a: fc.Arbitrary<T>): T => fc.sample(a, { seed: picks++, numRuns: 1 })[0]!;
      const base = index % 3 === 0 ? patientRecord(index) : cases[index % cases.length]!.resources;
      const resources = base.map((r) => mutate(r, random, pick) as Resource);
      try {
        evaluations.push(...captureApply(knowledge, resources, now));
      } catch (err) {
        if (!(err instanceof OperationOutcomeError)) throw err;
        refused++;
      }
    }
    // Most mutated records pass the data boundary (which refuses some malformed shapes outright).
    expect(refused).toBeLessThan(seeds.length / 2);
    expect(evaluations.length).toBeGreaterThan(50_000);
    expectAgreement(evaluations);
  }, 600_000);
});

describe('FHIRPath (N1) cases for the supported functions, fast path = fhirpath.js = spec', () => {
  const clock = clockVariables(makeClock('2026-03-31T10:00:00+02:00'));
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: {
      coding: [
        { system: 'http://loinc.org', code: '8665-2' },
        { system: 'http://snomed.info/sct', code: '21840007' },
      ],
    },
    effectiveDateTime: '2026-01-31T23:30:00+14:00',
    valueBoolean: true,
    component: [{ valueQuantity: { value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
  };
  const patient = { resourceType: 'Patient', birthDate: '1986-03-31' };
  const vars = { ...clock, obs: [observation], patient, none: [], flag: [true] };
  const cases: [string, unknown[]][] = [
    ["%obs.code.coding.where(system = 'http://loinc.org').code", ['8665-2']],
    ['%obs.code.coding.exists()', [true]],
    ["%obs.code.coding.exists(code = 'x')", [false]],
    ['%obs.code.coding.all(code.exists())', [true]],
    ['%obs.code.coding.select(code)', ['8665-2', '21840007']],
    ['%obs.code.coding.first().code', ['8665-2']],
    ['%obs.code.coding.last().code', ['21840007']],
    ['%obs.code.coding.count()', [2]],
    ['%none.empty()', [true]],
    ['%flag.not()', [false]],
    ['%none.not()', []],
    ['%obs.value.ofType(boolean)', [true]],
    ['%obs.valueBoolean = true', [true]],
    ['%obs.effective.ofType(dateTime).toString().substring(0, 10).toDate()', ['2026-01-31']],
    ['%obs.component.value.ofType(Quantity).value', [5]],
    ['%obs.component.valueQuantity.code', ['mg']],
    ["%obs.status in ('final' | 'amended')", [true]],
    ["%obs.status = 'final' and %none.exists()", [false]],
    ["%obs.status = 'final' and %none.empty().not()", [false]],
    ['true and {}', []],
    ['false and {}', [false]],
    ['true or {}', [true]],
    ['false or {}', []],
    ['{} = 1', []],
    ['%patient.birthDate + 40 years', ['2026-03-31']],
    ['%patient.birthDate + 40 years - 1 day', ['2026-03-30']],
    ["'2026-01-31'.toDate() + 1 month", ['2026-02-28']],
    ["'2024-02-29'.toDate() + 1 year", ['2025-02-28']],
    ['today()', ['2026-03-31']],
    ['today() - 7 days', ['2026-03-24']],
    ['%patient.birthDate <= today() - 40 years', [true]],
    ["'2026-03'.toDate() < today()", []],
    ['now() > %obs.effective.ofType(dateTime)', [true]],
    ["iif(%none.exists(), 'a', 'b')", ['b']],
    ["('2026-01-02'.toDate() | '2026-01-10'.toDate()).max()", ['2026-01-10']],
    ["('2026-01-02'.toDate() | '2026-01-10'.toDate()).min()", ['2026-01-02']],
    ["%obs.code.coding.code.where($this.startsWith('86'))", ['8665-2']],
  ];
  for (const [text, expected] of cases) {
    it(text, () => {
      const reference = compileFhirPath(text)(undefined, vars);
      expect(reference).toEqual(expected);
      const fast = compileFastPath(text)(undefined, vars);
      expect(fast).not.toBe(BAIL);
      expect(fast).toStrictEqual(reference);
    });
  }

  it('expressions outside the subset are refused at compile, with the reason', () => {
    for (const [text, reason] of [
      ['Patient.name', 'type names'],
      ['%obs.descendants()', 'descendants'],
      ['%a.aggregate($total + $this, 0)', 'aggregate'],
      ['%a is Quantity', 'TypeExpression'],
      ["'a\\'b'", 'escapes'],
    ] as const) {
      expect(() => compileFastPath(text), text).toThrow(Unsupported);
      expect(() => compileFastPath(text), text).toThrow(reason);
    }
  });

  it("an input fhirpath.js fails on is handed back, so the error is fhirpath.js's", () => {
    const text = '%obs.code.coding.code.toDate()';
    expect(() => compileFhirPath(text)(undefined, vars)).toThrow();
    expect(compileFastPath(text)(undefined, vars)).toBe(BAIL);
    expect(compileFastPath('%undefinedVariable')(undefined, vars)).toBe(BAIL);
    expect(compileFastPath('today()')(undefined, {})).toBe(BAIL);
  });
});
