import { describe, expect, it } from 'vitest';
import { addDuration, instantOf } from '../../src/engine/dates.ts';
import { relatedWhen } from '../../src/engine/timing.ts';

const q = (value: number, code: string) => ({ value, code, system: 'http://unitsofmeasure.org' });

describe('calendar arithmetic on FHIR dates', () => {
  it('keeps date precision and the time zone offset', () => {
    expect(addDuration('2026-11-20', q(5, 'd'))).toBe('2026-11-25');
    expect(addDuration('2026-11-20T23:30:00+08:00', q(1, 'h'))).toBe('2026-11-21T00:30:00+08:00');
    expect(addDuration('2026-11-20T10:00:00Z', q(30, 'min'), -1)).toBe('2026-11-20T09:30:00Z');
    expect(addDuration('2026-11', q(2, 'mo'))).toBe('2027-01');
  });

  it('clamps month ends and handles leap years', () => {
    expect(addDuration('2026-01-31', q(1, 'mo'))).toBe('2026-02-28');
    expect(addDuration('1988-02-29', q(40, 'a'))).toBe('2028-02-29');
    expect(addDuration('1987-02-28', q(1, 'a'))).toBe('1988-02-28');
  });

  it('six weeks = 42 days', () => {
    expect(addDuration('2026-10-12', q(6, 'wk'))).toBe(addDuration('2026-10-12', q(42, 'd')));
  });

  it('a sub-day offset leaves a date-only value unchanged; unknown units are refused', () => {
    expect(addDuration('2026-11-20', q(30, 'min'))).toBe('2026-11-20');
    expect(addDuration('2026-11-20', q(1, 'furlong'))).toBeUndefined();
    expect(addDuration('2026-11-20', q(1.5, 'd'))).toBeUndefined();
  });

  it('orders instants across offsets', () => {
    expect(instantOf('2026-11-20T08:00:00+08:00')).toBe(instantOf('2026-11-20T00:00:00Z'));
    expect(instantOf('not a date')).toBeUndefined();
  });
});

describe('relatedAction windows', () => {
  const window = { start: '2026-11-25', end: '2026-11-27' };
  it('before-start shifts the whole window back by the offset', () => {
    expect(relatedWhen({ actionId: 'x', relationship: 'before-start', offsetDuration: q(2, 'd') }, window)).toEqual({ start: '2026-11-23', end: '2026-11-25' });
  });
  it('after-end with a Range offset widens the window', () => {
    expect(relatedWhen({ actionId: 'x', relationship: 'after-end', offsetRange: { low: q(1, 'd'), high: q(3, 'd') } }, { start: '2026-11-25', end: '2026-11-25' })).toEqual({
      start: '2026-11-26',
      end: '2026-11-28',
    });
  });
  it('concurrent keeps the target window', () => {
    expect(relatedWhen({ actionId: 'x', relationship: 'concurrent' }, window)).toEqual(window);
  });
});
