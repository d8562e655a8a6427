/**
 * Deterministic card and suggestion uuids: a name-based UUID (src/util/name-based-uuid.ts) of the service, the hook instance and the content. The same call gives the same body,
 * and feedback for a card can be tied back to exactly what was shown.
 */
import { nameBasedUuid } from '../../util/name-based-uuid.ts';
import type { CdsCard, CdsSuggestion } from './card-types.ts';

/** Returns the card with uuids on it and on each suggestion (content order is preserved). */
export function withUuids(card: CdsCard, serviceId: string, hookInstance: string): CdsCard {
  const suggestions = card.suggestions?.map((s): CdsSuggestion => {
    const { uuid: _ignored, ...content } = s;
    return { label: content.label, uuid: nameBasedUuid(serviceId, hookInstance, 'suggestion', JSON.stringify(content)), ...withoutLabel(content) };
  });
  const { uuid: _old, suggestions: _unnamed, ...rest } = card;
  // The card is named by its own fields and its suggestions' uuids, which already name their whole
  // content: each suggestion's resources are serialised and hashed once, not again inside the card.
  const cardName = nameBasedUuid(serviceId, hookInstance, 'card', JSON.stringify(rest), ...(suggestions ?? []).map((s) => s.uuid ?? ''));
  return { uuid: cardName, ...(suggestions ? { ...rest, suggestions } : rest) };
}

function withoutLabel(s: Omit<CdsSuggestion, 'uuid'>): Omit<CdsSuggestion, 'uuid' | 'label'> {
  const { label: _label, ...rest } = s;
  return rest;
}
