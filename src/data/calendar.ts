/**
 * FHIR date, dateTime and instant values as real calendar values. The R4 regular expressions admit
 * `2026-02-30` or `24:00`; such a value would become an invalid output or, read as a date, silently
 * match nothing (no advice). So every date the module reads is checked here first.
 */

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))?)?)?)?$/;

/** The parts are in range: month 1-12, the day exists in that month, hour 0-23, offset at most 14:00. */
function partsInRange(m: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second, zone, offsetHour, offsetMinute] = m;
  if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) return false;
  if (day !== undefined && (Number(day) < 1 || Number(day) > daysInMonth(Number(year), Number(month)))) return false;
  if (hour !== undefined && Number(hour) > 23) return false;
  if (minute !== undefined && Number(minute) > 59) return false;
  // 60 is a leap second, which the R4 regular expression allows.
  if (second !== undefined && Number(second) > 60) return false;
  if (zone !== undefined && zone !== 'Z' && (Number(offsetHour) > 14 || Number(offsetMinute) > 59)) return false;
  return true;
}

export type CalendarKind = 'date' | 'dateTime' | 'instant';

/** The two ASCII digits at `at` as a number, or -1 (`\d` of the regular expression: ASCII only). */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const units = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : -1;
}

/**
 * Days in `month` of `year` as `new Date(Date.UTC(year, month, 0)).getUTCDate()` gave them (the
 * check's first form): `Date.UTC` reads years 0-99 as 1900-1999, so this does too - the verdicts
 * stay the same on every input (tests/data/calendar.test.ts).
 */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  const y = year < 100 ? year + 1900 : year;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/**
 * `text` is a real calendar value of `kind`: a date is YYYY, YYYY-MM or YYYY-MM-DD; a dateTime may
 * add a time, which then needs an offset; an instant is a full date-time with seconds and an offset.
 * A character scan with the verdict of DATE_TIME + `partsInRange` (compared on generated values in
 * tests/data/calendar.test.ts): every date of every resource is checked on every apply, and the
 * regular expression's captures and the Date it built were ~40% of the record's shape check.
 */
export function isCalendarValue(text: string, kind: CalendarKind): boolean {
  const length = text.length;
  if (length < 4) return false;
  const century = twoDigits(text, 0);
  const yearInCentury = twoDigits(text, 2);
  if (century < 0 || yearInCentury < 0) return false;
  if (length === 4) return kind !== 'instant';
  if (text.charCodeAt(4) !== 45 /* - */ || length < 7) return false;
  const month = twoDigits(text, 5);
  if (month < 1 || month > 12) return false;
  if (length === 7) return kind !== 'instant';
  if (text.charCodeAt(7) !== 45 /* - */ || length < 10) return false;
  const day = twoDigits(text, 8);
  if (day < 1 || day > daysInMonth(century * 100 + yearInCentury, month)) return false;
  if (length === 10) return kind !== 'instant';
  // A time: hh:mm, then seconds and an offset, both required here (a bare time has no instant).
  if (kind === 'date' || text.charCodeAt(10) !== 84 /* T */ || length < 16 || text.charCodeAt(13) !== 58 /* : */) return false;
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  if (text.charCodeAt(16) !== 58 /* : */) return false;
  const second = twoDigits(text, 17);
  if (second < 0 || second > 60) return false;
  let at = 19;
  if (text.charCodeAt(at) === 46 /* . */) {
    at++;
    const firstDigit = at;
    while (at < length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
    if (at === firstDigit) return false;
  }
  const zone = text.charCodeAt(at);
  if (zone === 90 /* Z */) return at + 1 === length;
  if (zone !== 43 /* + */ && zone !== 45 /* - */) return false;
  if (at + 6 !== length || text.charCodeAt(at + 3) !== 58 /* : */) return false;
  const offsetHour = twoDigits(text, at + 1);
  const offsetMinute = twoDigits(text, at + 4);
  return offsetHour >= 0 && offsetHour <= 14 && offsetMinute >= 0 && offsetMinute <= 59;
}

/**
 * The form `--now` and $apply's `now` take: a full date and a time with an offset (seconds
 * optional, as before), on a day and at a time that exist.
 */
export function isRealDateTimeWithOffset(text: string): boolean {
  const m = DATE_TIME.exec(text);
  return m !== null && m[3] !== undefined && m[4] !== undefined && m[7] !== undefined && partsInRange(m);
}
