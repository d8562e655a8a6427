/**
 * Deterministic card and suggestion uuids: a name-based UUID (RFC 9562 version 8 layout over
 * SHA-256) of the service, the hook instance and the content. The same call gives the same body,
 * and feedback for a card can be tied back to exactly what was shown.
 */
import { createHash } from 'node:crypto';
import type { CdsCard, CdsSuggestion } from './card-types.ts';

export function nameBasedUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8 (custom, hash-based)
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Returns the card with uuids on it and on each suggestion (content order is preserved). */
export function withUuids(card: CdsCard, serviceId: string, hookInstance: string): CdsCard {
  const suggestions = card.suggestions?.map((s): CdsSuggestion => {
    const { uuid: _ignored, ...content } = s;
    return { label: content.label, uuid: nameBasedUuid(serviceId, hookInstance, 'suggestion', JSON.stringify(content)), ...withoutLabel(content) };
  });
  const { uuid: _old, ...rest } = card;
  const content: CdsCard = suggestions ? { ...rest, suggestions } : rest;
  return { uuid: nameBasedUuid(serviceId, hookInstance, 'card', JSON.stringify(content)), ...content };
}

function withoutLabel(s: Omit<CdsSuggestion, 'uuid'>): Omit<CdsSuggestion, 'uuid' | 'label'> {
  const { label: _label, ...rest } = s;
  return rest;
}
