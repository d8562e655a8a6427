import { describe, expect, it } from 'vitest';
import { isCalendarValue, type CalendarKind } from '../../src/data/calendar.ts';

/** The check's first form (regular expression + Date), kept here as the reference the scanner must equal. */
const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))?)?)?)?$/;
function referenceVerdict(text: string, kind: CalendarKind): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [, year, month, day, hour, minute, second, zone, offsetHour, offsetMinute] = m;
  const hasTime = hour !== undefined;
  if (kind === 'date' && hasTime) return false;
  if (hasTime && (second === undefined || zone === undefined)) return false;
  if (kind === 'instant' && !hasTime) return false;
  if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) return false;
  if (day !== undefined && (Number(day) < 1 || Number(day) > new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate())) return false;
  if (hour !== undefined && Number(hour) > 23) return false;
  if (minute !== undefined && Number(minute) > 59) return false;
  if (second !== undefined && Number(second) > 60) return false;
  if (zone !== undefined && zone !== 'Z' && (Number(offsetHour) > 14 || Number(offsetMinute) > 59)) return false;
  return true;
}

/** Seeded (mulberry32): the same values on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: CalendarKind[] = ['date', 'dateTime', 'instant'];

describe('isCalendarValue (the character scan)', () => {
  it('gives the verdict of the regular expression + Date on edge values', () => {
    const edges = [
      '',
      '2026',
      '202',
      '20261',
      '2026-',
      '2026-1',
      '2026-00',
      '2026-12',
      '2026-13',
      '2026-02-28',
      '2026-02-29',
      '2024-02-29',
      '1900-02-29',
      '2000-02-29',
      '0000-02-29',
      '0004-02-29',
      '0099-02-29',
      '0100-02-29',
      '2026-04-31',
      '2026-01-31',
      '2026-01-32',
      '2026-01-00',
      '2026-01-01T',
      '2026-01-01T10:00',
      '2026-01-01T10:00Z',
      '2026-01-01T10:00:00',
      '2026-01-01T10:00:00Z',
      '2026-01-01T10:00:60Z',
      '2026-01-01T10:00:61Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T23:59:59.999+14:00',
      '2026-01-01T23:59:59.+14:00',
      '2026-01-01T23:59:59.1',
      '2026-01-01T23:59:59+14:59',
      '2026-01-01T23:59:59+15:00',
      '2026-01-01T23:59:59-00:60',
      '2026-01-01T23:59:59+0100',
      '2026-01-01T23:59:59Zx',
      '2026-01-01T10:60:00Z',
      '٢٠٢٦-01-01',
      '2026-01-01 ',
      ' 2026',
      '2026-01-01T10:00:00.123456789Z',
      '2026/01/01',
      '2026-1-01',
      '2026-01-1',
      '2026-01-01t10:00:00Z',
      '2026-01-01T10:00:00z',
    ];
    for (const text of edges) for (const kind of KINDS) expect([text, kind, isCalendarValue(text, kind)]).toEqual([text, kind, referenceVerdict(text, kind)]);
  });

  it('gives the verdict of the regular expression + Date on 60,000 generated values', () => {
    const next = random(18);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const digits = (n: number) => Array.from({ length: n }, () => pick('0123456789'.split(''))).join('');
    const part = () => pick([digits(2), digits(1), digits(3), String(Math.floor(next() * 32)).padStart(2, '0'), 'ab', '']);
    let disagreements = 0;
    for (let i = 0; i < 20_000; i++) {
      const year = pick([digits(4), String(1900 + Math.floor(next() * 200)), '00' + digits(2), digits(3)]);
      let text = year;
      if (next() < 0.9) text += pick(['-', '-', '/']) + part();
      if (next() < 0.85) text += pick(['-', '-', '.']) + part();
      if (next() < 0.6) text += pick(['T', 'T', ' ']) + part() + pick([':', ':', '.']) + part();
      if (next() < 0.7) text += pick([':', ':', '']) + part();
      if (next() < 0.3) text += '.' + pick([digits(1), digits(3), '']);
      if (next() < 0.8) text += pick(['Z', '+', '-', 'z', '']) + pick(['', part() + pick([':', '']) + part()]);
      if (next() < 0.05) text += pick([' ', 'x', '0']);
      for (const kind of KINDS) if (isCalendarValue(text, kind) !== referenceVerdict(text, kind)) disagreements++;
    }
    expect(disagreements).toBe(0);
  });
});
