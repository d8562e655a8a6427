/**
 * `now` for the engine: the injected clock written as an ISO date-time with the configured offset,
 * so "today" is the clinic's calendar day, not the server's time zone.
 */
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function offsetMinutes(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (m ?? 0));
}

export function formatNow(date: Date, offset: string): string {
  const shifted = new Date(date.getTime() + offsetMinutes(offset) * 60_000);
  const text =
    `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}` +
    `T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}.${pad(shifted.getUTCMilliseconds(), 3)}`;
  return `${text}${offset === 'Z' ? 'Z' : offset}`;
}
