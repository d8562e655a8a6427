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

  it('gives exactly what Date.parse gives, over edge and random dates (it computes common shapes itself)', () => {
    // The reference: the implementation before the digits were read directly.
    const reference = (value: string) => {
      const dateOnly = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value);
      const t = Date.parse(dateOnly ? `${value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value}T00:00:00Z` : value);
      return Number.isNaN(t) ? undefined : t;
    };
    let seed = 18;
    const pick = <T>(items: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return items[seed % items.length]!;
    };
    const two = (n: number) => String(n).padStart(2, '0');
    const values = [
      '0001-01-01',
      '0099-12-31',
      '0999-06-15',
      '2026',
      '2026-02',
      '2024-02-29',
      '2026-02-29',
      '2026-02-30',
      '2026-04-31',
      '2026-00-10',
      '2026-13-01',
      '2026-01-00',
      '2026-01-32',
    ];
    for (let i = 0; i < 20_000; i++) {
      const date = `${pick(['0050', '0999', '1000', '1969', '1970', '2000', '2026', '9999'])}-${two(pick([0, 1, 2, 6, 9, 12, 13]))}-${two(pick([0, 1, 15, 28, 29, 30, 31, 32]))}`;
      const time = `T${two(pick([0, 9, 23, 24, 25]))}:${two(pick([0, 30, 59, 60]))}${pick(['', `:${two(pick([0, 59, 60]))}`, ':07.1', ':07.123456', ':07.'])}`;
      const zone = pick(['', 'Z', '+08:00', '-05:30', '+14:00', '-00:00', '+23:59', '+24:00', '+05:60']);
      values.push(pick([date, date.slice(0, 7), `${date}${time}${zone}`, `${date}${time}${zone}`]));
    }
    for (const value of values) expect([value, instantOf(value)]).toEqual([value, reference(value)]);
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
