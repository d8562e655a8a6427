/**
 * FHIR date, dateTime and instant values as real calendar values. The R4 regular expressions admit
 * `2026-02-30` or `24:00`; such a value would become an invalid output or, read as a date, silently
 * match nothing (no advice). So every date the module reads is checked here first.
 */

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))?)?)?)?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The parts are in range: month 1-12, the day exists in that month, hour 0-23, offset at most 14:00. */
function partsInRange(m: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second, zone, offsetHour, offsetMinute] = m;
  if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) return false;
  if (day !== undefined && (Number(day) < 1 || Number(day) > daysIn(Number(year), Number(month)))) return false;
  if (hour !== undefined && Number(hour) > 23) return false;
  if (minute !== undefined && Number(minute) > 59) return false;
  // 60 is a leap second, which the R4 regular expression allows.
  if (second !== undefined && Number(second) > 60) return false;
  if (zone !== undefined && zone !== 'Z' && (Number(offsetHour) > 14 || Number(offsetMinute) > 59)) return false;
  return true;
}

export type CalendarKind = 'date' | 'dateTime' | 'instant';

/**
 * `text` is a real calendar value of `kind`: a date is YYYY, YYYY-MM or YYYY-MM-DD; a dateTime may
 * add a time, which then needs an offset; an instant is a full date-time with seconds and an offset.
 */
export function isCalendarValue(text: string, kind: CalendarKind): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const hasTime = m[4] !== undefined;
  if (kind === 'date' && hasTime) return false;
  if (hasTime && (m[6] === undefined || m[7] === undefined)) return false;
  if (kind === 'instant' && (!hasTime || m[6] === undefined)) return false;
  return partsInRange(m);
}

/**
 * The form `--now` and $apply's `now` take: a full date and a time with an offset (seconds
 * optional, as before), on a day and at a time that exist.
 */
export function isRealDateTimeWithOffset(text: string): boolean {
  const m = DATE_TIME.exec(text);
  return m !== null && m[3] !== undefined && m[4] !== undefined && m[7] !== undefined && partsInRange(m);
}
