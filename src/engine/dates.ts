/**
 * Calendar arithmetic on FHIR date / dateTime strings, keeping the input's precision and time
 * zone offset (a date stays a date; 09:00+08:00 stays in +08:00). Pure string-in, string-out.
 */
import type { Duration, Quantity } from '@medplum/fhirtypes';

/** Calendar units by UCUM code and common words. */
const UNIT: Record<string, 'a' | 'mo' | 'wk' | 'd' | 'h' | 'min' | 's'> = {
  a: 'a',
  year: 'a',
  years: 'a',
  yr: 'a',
  mo: 'mo',
  month: 'mo',
  months: 'mo',
  wk: 'wk',
  week: 'wk',
  weeks: 'wk',
  d: 'd',
  day: 'd',
  days: 'd',
  h: 'h',
  hour: 'h',
  hours: 'h',
  min: 'min',
  minute: 'min',
  minutes: 'min',
  s: 's',
  second: 's',
  seconds: 's',
};

export function durationUnit(q: Quantity | Duration): (typeof UNIT)[string] | undefined {
  return UNIT[q.code ?? ''] ?? UNIT[(q.unit ?? '').toLowerCase()];
}

/** Length of a duration in milliseconds, for comparing offsets (months/years approximated). */
export function durationMillis(q: Quantity | Duration): number | undefined {
  const unit = durationUnit(q);
  if (!unit || q.value === undefined) return undefined;
  const per = { a: 365.25 * 864e5, mo: 30.44 * 864e5, wk: 7 * 864e5, d: 864e5, h: 36e5, min: 6e4, s: 1e3 }[unit];
  return q.value * per;
}

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function isDateOnly(value: string): boolean {
  return /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value);
}

/**
 * Adds `sign * duration` to a FHIR date or dateTime. Returns undefined when the unit is not a
 * calendar unit or the value is not whole where it must be. Sub-day durations added to a date-only
 * value leave it unchanged (the date has no time to move), which callers report.
 */
export function addDuration(value: string, duration: Quantity | Duration, sign: 1 | -1 = 1): string | undefined {
  const unit = durationUnit(duration);
  const amount = duration.value;
  const m = DATE_TIME.exec(value);
  if (!unit || amount === undefined || !m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const dateOnly = hh === undefined;
  if (dateOnly && (unit === 'h' || unit === 'min' || unit === 's')) return value;
  const wall = new Date(Date.UTC(Number(y), Number(mo ?? 1) - 1, Number(d ?? 1), Number(hh ?? 0), Number(mi ?? 0), Number(ss ?? 0)));
  const n = sign * amount;
  switch (unit) {
    case 'a':
    case 'mo': {
      const months = unit === 'a' ? n * 12 : n;
      if (!Number.isInteger(months)) return undefined;
      const day = wall.getUTCDate();
      wall.setUTCDate(1);
      wall.setUTCMonth(wall.getUTCMonth() + months);
      // Clamp 31 Jan + 1 month to the end of February rather than rolling into March.
      const last = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 0)).getUTCDate();
      wall.setUTCDate(Math.min(day, last));
      break;
    }
    case 'wk':
    case 'd': {
      const days = unit === 'wk' ? n * 7 : n;
      if (!Number.isInteger(days)) return undefined;
      wall.setUTCDate(wall.getUTCDate() + days);
      break;
    }
    default:
      wall.setTime(wall.getTime() + n * { h: 36e5, min: 6e4, s: 1e3 }[unit]);
  }
  const iso = wall.toISOString();
  const date = mo === undefined ? iso.slice(0, 4) : d === undefined ? iso.slice(0, 7) : iso.slice(0, 10);
  if (dateOnly) return date;
  const seconds = ss === undefined ? '' : `:${iso.slice(17, 19)}${frac ?? ''}`;
  return `${date}T${iso.slice(11, 16)}${seconds}${tz ?? ''}`;
}

/** Milliseconds since the epoch for comparisons; a date-only value counts as its first instant (UTC). */
export function instantOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = plainInstant(value) ?? Date.parse(isDateOnly(value) ? `${value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value}T00:00:00Z` : value);
  return Number.isNaN(t) ? undefined : t;
}

/** A dateTime's time zone offset in milliseconds (`Z` and a value with no time: 0). */
export function offsetMillisOf(value: string): number {
  const tz = DATE_TIME.exec(value)?.[8];
  if (!tz || tz === 'Z') return 0;
  return (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 6e4;
}

/**
 * The instants [first, last] (epoch ms) a FHIR date or dateTime covers, with a date-only value read
 * as calendar time in the offset `offsetMs` (the offset of `now`): `2026-03-10` is that whole local
 * day, `2026-03` the whole month, `2026` the whole year - not a UTC midnight, which east of UTC is
 * the previous local evening and would drop a result recorded today before 08:00 at +08:00. A
 * dateTime is the one instant it names.
 */
export function calendarSpan(value: string | undefined, offsetMs: number): [number, number] | undefined {
  if (!value) return undefined;
  if (!isDateOnly(value)) {
    const t = instantOf(value);
    return t === undefined ? undefined : [t, t];
  }
  const start = instantOf(value);
  if (start === undefined) return undefined;
  // The first instant after it: start is the 1st of the month (or of January) for a partial date.
  const next = new Date(start);
  if (value.length === 4) next.setUTCFullYear(next.getUTCFullYear() + 1);
  else if (value.length === 7) next.setUTCMonth(next.getUTCMonth() + 1);
  else next.setUTCDate(next.getUTCDate() + 1);
  return [start - offsetMs, next.getTime() - offsetMs - 1];
}

/**
 * Date.parse's answer for the common FHIR shapes, computed from the digits (Date.parse was a few %
 * of an apply: input date filters and relatedAction spans call it for every candidate). Anything
 * outside the plain ranges (a year before 1000, hour 24, second 60, no offset on a time, a 15-hour
 * offset...) returns undefined and goes to Date.parse, so the two can only agree
 * (tests/engine/dates.test.ts compares them).
 */
function plainInstant(value: string): number | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  const month = Number(mo ?? 1);
  const day = Number(d ?? 1);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hh === undefined) return Date.UTC(year, month - 1, day);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss ?? 0);
  if (tz === undefined || hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (tz !== 'Z') {
    const offsetHours = Number(tz.slice(1, 3));
    const offsetMinutes = Number(tz.slice(4, 6));
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (tz.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 6e4;
  }
  // Date.parse keeps milliseconds and drops finer digits.
  const millis = frac === undefined ? 0 : Number(`${frac.slice(1)}00`.slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
}
