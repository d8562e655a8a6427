import { describe, expect, it } from 'vitest';
import { clockVariables, compileFhirPath, FhirPathSyntaxError, makeClock } from '../../src/fhirpath/fhirpath-engine.ts';

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

  it('compiles an expression once and reuses it', () => {
    expect(compileFhirPath('1 + 1')).toBe(compileFhirPath('1 + 1'));
  });

  it('reports syntax errors as FhirPathSyntaxError', () => {
    expect(() => compileFhirPath('Observation.where(')).toThrow(FhirPathSyntaxError);
  });

  it('rejects a clock without a time zone offset', () => {
    expect(() => makeClock('2026-11-23T09:00:00')).toThrow(/offset/);
    expect(() => makeClock('2026-11-23')).toThrow();
  });
});
