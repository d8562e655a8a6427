/**
 * Text for cards: short labels for codes, periods and resources, markdown that cannot be hijacked
 * by text coming from the patient's record, and summaries cut to the spec's limit.
 */
import type { CodeableConcept, Coding, Period, Resource } from '@medplum/fhirtypes';

/** CDS Hooks: "<140-character summary". */
export const SUMMARY_MAX = 139;

/** Cuts at a word boundary when possible, never inside a surrogate pair, and marks the cut. */
export function truncateSummary(text: string, max = SUMMARY_MAX): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  const head = chars.slice(0, max - 1).join('');
  const space = head.lastIndexOf(' ');
  return `${(space > max * 0.6 ? head.slice(0, space) : head).replace(/[\s,;:.-]+$/, '')}…`;
}

/** Escapes GitHub-flavoured markdown so record text renders as text (no links, no HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]#!|<>~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function codingLabel(coding: Coding): string {
  return coding.display ?? (coding.code ? coding.code : 'unnamed code');
}

export function conceptLabel(concept: CodeableConcept | undefined): string | undefined {
  if (!concept) return undefined;
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.[0]?.code;
}

export function codingKeys(concept: CodeableConcept | undefined): string[] {
  return (concept?.coding ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`);
}

/** The element carrying "what is requested" for the request types the protocols produce. */
export function requestConcept(resource: Resource): CodeableConcept | undefined {
  const r = resource as unknown as Record<string, unknown>;
  return r['code'] ?? r['medicationCodeableConcept'] ?? r['codeCodeableConcept'] ?? (r['category'] as CodeableConcept[] | undefined)?.[0];
}

export function requestLabel(resource: Resource): string {
  const r = resource as unknown as Record<string, unknown>;
  const payload = (r['payload'] as { contentString?: string }[] | undefined)?.[0]?.contentString;
  return conceptLabel(requestConcept(resource)) ?? (r['description'] as string | undefined) ?? payload ?? resource.resourceType;
}

/** Day-precision text of a date or date-time (windows are whole days). */
export function dayOf(value: string | undefined): string | undefined {
  return value?.slice(0, 10);
}

export function periodLabel(period: Period | undefined): string | undefined {
  if (!period) return undefined;
  const start = dayOf(period.start);
  const end = dayOf(period.end);
  if (start && end) return start === end ? `on ${start}` : `between ${start} and ${end}`;
  if (start) return `from ${start}`;
  if (end) return `by ${end}`;
  return undefined;
}

/** A one-line description of a record entry cited as a reason (type, what, value, when). */
export function evidenceLabel(resource: Resource): string {
  const r = resource as unknown as Record<string, unknown>;
  const what = conceptLabel((r['code'] ?? r['medicationCodeableConcept']) as CodeableConcept | undefined) ?? resource.resourceType;
  const valueConcept = conceptLabel(r['valueCodeableConcept'] as CodeableConcept | undefined);
  const quantity = r['valueQuantity'] as { value?: number; unit?: string } | undefined;
  const value =
    valueConcept ??
    (quantity?.value !== undefined ? `${quantity.value}${quantity.unit ? ` ${quantity.unit}` : ''}` : undefined) ??
    (typeof r['valueBoolean'] === 'boolean' ? String(r['valueBoolean']) : undefined) ??
    (r['valueDateTime'] as string | undefined) ??
    (r['valueString'] as string | undefined);
  const when = dayOf(
    (r['effectiveDateTime'] ??
      (r['effectivePeriod'] as Period | undefined)?.start ??
      r['performedDateTime'] ??
      (r['performedPeriod'] as Period | undefined)?.start ??
      r['onsetDateTime'] ??
      r['recordedDate'] ??
      r['issued']) as string | undefined,
  );
  return [`${resource.resourceType}: ${what}`, value ? `= ${value}` : undefined, when ? `(${when})` : undefined].filter(Boolean).join(' ');
}

export function bulletList(lines: string[]): string {
  return lines.map((l) => `- ${l}`).join('\n');
}
