/** CDS Hooks 2.0 response shapes (section "CDS Service Response"). */
import type { Resource } from '@medplum/fhirtypes';

export type Indicator = 'info' | 'warning' | 'critical';

export interface CdsCoding {
  system: string;
  code: string;
  display?: string;
}

export interface CdsAction {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: Resource;
  resourceId?: string;
}

export interface CdsSuggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions: CdsAction[];
}

export interface CdsLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
}

export interface CdsSource {
  label: string;
  url?: string;
  topic?: CdsCoding;
}

export interface CdsCard {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: Indicator;
  source: CdsSource;
  suggestions?: CdsSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: CdsCoding[];
  links?: CdsLink[];
}

/**
 * No `systemActions`: they may be applied without a clinician seeing them, and every outcome of
 * these protocols (order, do not order, reschedule, record missing data) is a clinical decision
 * that stays with the clinician (docs/cds-hooks.md, "systemActions").
 */
export interface CdsResponse {
  cards: CdsCard[];
}
