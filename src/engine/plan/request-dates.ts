/**
 * Where a computed date goes on a request: `occurrence[x]` on the request types that have it, the
 * restriction period on a Task. Dates are written as a dateTime when start and end are the same
 * instant, else as a Period.
 */
import type { When } from '../timing.ts';

/** Request types with `occurrence[x]`. */
export const OCCURRENCE_TYPES = new Set(['ServiceRequest', 'CommunicationRequest', 'DeviceRequest', 'SupplyRequest']);

/** Puts a computed date on a request: occurrence[x] where the type has it, Task.restriction.period. */
export function setWhen(request: Record<string, unknown>, type: string, when: When): void {
  if (OCCURRENCE_TYPES.has(type)) setOccurrence(request, when);
  else if (type === 'Task') request.restriction = { ...(request.restriction as object | undefined), period: { start: when.start, end: when.end } };
}

/** Whether the request already carries a date (its own, or one a dynamicValue wrote). */
export function hasWhen(request: Record<string, unknown>): boolean {
  return Boolean(request.occurrenceDateTime || request.occurrencePeriod || request.occurrenceTiming || (request.restriction as { period?: unknown } | undefined)?.period);
}

export function setOccurrence(request: Record<string, unknown>, when: When): void {
  delete request.occurrenceDateTime;
  delete request.occurrencePeriod;
  delete request.occurrenceTiming;
  Object.assign(request, when.start === when.end ? { occurrenceDateTime: when.start } : { occurrencePeriod: { start: when.start, end: when.end } });
}
