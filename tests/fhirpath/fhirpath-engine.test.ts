import fhirpath from 'fhirpath';
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/util/bounded-cache.ts';
import { clockVariables, compileFhirPath, FhirPathSyntaxError, makeClock, R4_MODEL } from '../../src/fhirpath/fhirpath-engine.ts';

const vars = (now: string, extra: Record<string, unknown> = {}) => ({ ...clockVariables(makeClock(now)), ...extra });

describe('fhirpath engine', () => {
  it('today() and now() follow the injected clock, not the process clock', () => {
    expect(compileFhirPath('today()')({}, vars('2026-11-23T09:00:00Z'))).toEqual(['2026-11-23']);
    expect(compileFhirPath('today()')({}, vars('2001-02-03T23:30:00+08:00'))).toEqual(['2001-02-03']);
    expect(compileFhirPath('%today + 5 days')({}, vars('2026-11-23T09:00:00Z'))).toEqual(['2026-11-28']);
  });

  it('age boundary: 40th birthday today is not under 40', () => {
    const expr = compileFhirPath('%patient.birthDate > today() - 40 years');
    const patient = (birthDate: string) => ({ resourceType: 'Patient', birthDate });
    expect(expr({}, vars('2026-11-23T09:00:00Z', { patient: patient('1986-11-23') }))).toEqual([false]);
    expect(expr({}, vars('2026-11-23T09:00:00Z', { patient: patient('1986-11-24') }))).toEqual([true]);
  });

  it('reads choice-type values through the R4 model', () => {
    const obs = [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueDateTime: '2026-11-18' }];
    expect(compileFhirPath('%obs.value.ofType(dateTime).last() + 5 days')({}, vars('2026-11-23T09:00:00Z', { obs }))).toEqual(['2026-11-23']);
  });

  it('keeps no cache of its own: each call compiles (the knowledge keeps what it compiled)', () => {
    expect(compileFhirPath('1 + 1')).not.toBe(compileFhirPath('1 + 1'));
  });

  it('bare literals (evaluated without fhirpath.js) give what fhirpath.js gives', () => {
    const literals = ["'http://loinc.org'", " 'Laboratory procedure' ", "''", '0', '7', '007', '123456789', 'true', 'false'];
    for (const text of literals) {
      expect(compileFhirPath(text)({}, vars('2026-11-23T09:00:00Z')), text).toEqual(fhirpath.evaluate({}, text, undefined, R4_MODEL));
    }
    // Near-literals still go to fhirpath.js: an escape, a decimal, a quantity, a negative number.
    expect(compileFhirPath("'it\\'s'")({}, {})).toEqual(["it's"]);
    expect(compileFhirPath('1.50')({}, {})).toEqual(fhirpath.evaluate({}, '1.50', undefined, R4_MODEL));
    expect(compileFhirPath('-3')({}, {})).toEqual([-3]);
    expect(compileFhirPath("'a' + 'b'")({}, {})).toEqual(['ab']);
  });

  it('the memo tables are bounded: the oldest entry goes first', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3); // an update does not evict
    expect(cache.size).toBe(2);
    cache.set('c', 4);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 4]);
  });

  it('reports syntax errors as FhirPathSyntaxError', () => {
    expect(() => compileFhirPath('Observation.where(')).toThrow(FhirPathSyntaxError);
  });

  it('rejects a clock without a time zone offset', () => {
    expect(() => makeClock('2026-11-23T09:00:00')).toThrow(/offset/);
    expect(() => makeClock('2026-11-23')).toThrow();
  });
});
