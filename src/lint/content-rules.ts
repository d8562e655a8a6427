/**
 * Shareable-content rules (CPG-on-FHIR): what makes an artifact publishable beyond its logic. Every
 * PlanDefinition, ActivityDefinition, ValueSet and CodeSystem carries publisher, contact, date,
 * jurisdiction, useContext, copyright (naming SNOMED CT / LOINC when their codes are used) and a
 * generated narrative with text in it; plans and activities also the CPG profiles and the knowledge
 * capability and representation level. Checked on the artifacts that declare themselves shareable
 * (a shareable/CPG profile in meta.profile, or knowledgeCapability): a local draft need not be; the
 * shipped artifacts all are (tests/lint/content-rules.test.ts). Warnings, so lint's exit code stays
 * about the logic.
 */
import type { PlanDefinitionAction, RelatedArtifact, Resource } from '@medplum/fhirtypes';
import { readCitation } from '../diagram/citation.ts';
import type { FindingSink } from './findings.ts';

const CPG = 'http://hl7.org/fhir/uv/cpg/StructureDefinition';
const KNOWLEDGE_CAPABILITY = 'http://hl7.org/fhir/StructureDefinition/cqf-knowledgeCapability';
const KNOWLEDGE_REPRESENTATION_LEVEL = 'http://hl7.org/fhir/StructureDefinition/cqf-knowledgeRepresentationLevel';
const CAPABILITIES = ['shareable', 'computable', 'publishable', 'executable'];

const CPG_PROFILES: Record<string, string[]> = {
  PlanDefinition: [`${CPG}/cpg-computableplandefinition`, `${CPG}/cpg-shareableplandefinition`, `${CPG}/cpg-publishableplandefinition`],
  ActivityDefinition: [`${CPG}/cpg-computableactivity`, `${CPG}/cpg-shareableactivitydefinition`, `${CPG}/cpg-publishableactivity`],
};
const KNOWLEDGE_TYPES = new Set(['PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem']);

/** The artifact read as untrusted JSON: any field may be missing or of another shape. */
interface ContentFields {
  meta?: { profile?: unknown };
  text?: { status?: unknown; div?: unknown };
  extension?: unknown;
  publisher?: unknown;
  contact?: unknown;
  date?: unknown;
  jurisdiction?: unknown;
  useContext?: unknown;
  copyright?: unknown;
  content?: unknown;
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const nonEmptyList = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

function extensionCodes(extension: unknown, url: string): string[] {
  if (!Array.isArray(extension)) return [];
  return extension.flatMap((e: unknown) => {
    const ext = e as { url?: unknown; valueCode?: unknown } | null;
    return ext && ext.url === url && typeof ext.valueCode === 'string' ? [ext.valueCode] : [];
  });
}

function claimsShareable(r: ContentFields): boolean {
  const profiles = Array.isArray(r.meta?.profile) ? (r.meta.profile as unknown[]) : [];
  return profiles.some((p) => typeof p === 'string' && /\/(cpg-|shareable)/.test(p)) || extensionCodes(r.extension, KNOWLEDGE_CAPABILITY).length > 0;
}

export function checkContentRules(sink: FindingSink, artifacts: readonly { file: string; resource: Resource }[]): void {
  for (const { file, resource } of artifacts) {
    if (!KNOWLEDGE_TYPES.has(resource.resourceType)) continue;
    const type = resource.resourceType;
    const r = resource as unknown as ContentFields;
    if (!claimsShareable(r)) continue;
    const warn = (path: string, message: string) => {
      sink.add('warning', 'business-rule', file, `${type}.${path}`, message);
    };
    for (const field of ['publisher', 'date', 'copyright'] as const) if (!nonEmptyString(r[field])) warn(field, `no ${field} (shareable content names it)`);
    for (const field of ['contact', 'jurisdiction', 'useContext'] as const) if (!nonEmptyList(r[field])) warn(field, `no ${field} (shareable content names it)`);
    const div = typeof r.text?.div === 'string' ? r.text.div.replace(/<[^>]*>/g, '').trim() : '';
    if (div === '') warn('text', 'no narrative: text.div must say in words what the artifact holds');
    const json = JSON.stringify(resource);
    const copyright = typeof r.copyright === 'string' ? r.copyright : '';
    if (json.includes('"http://snomed.info/sct"') && !copyright.includes('SNOMED'))
      warn('copyright', 'uses SNOMED CT codes but the copyright does not carry the SNOMED CT statement');
    if (json.includes('"http://loinc.org"') && !copyright.includes('LOINC')) warn('copyright', 'uses LOINC codes but the copyright does not carry the LOINC statement');
    if (type === 'CodeSystem' && !nonEmptyString(r.content)) warn('content', 'no content (complete, fragment, ...): required by R4');
    const profiles = CPG_PROFILES[type];
    if (!profiles) continue;
    const declared = Array.isArray(r.meta?.profile) ? (r.meta.profile as unknown[]) : [];
    for (const profile of profiles) if (!declared.includes(profile)) warn('meta.profile', `does not claim ${profile}`);
    const capabilities = extensionCodes(r.extension, KNOWLEDGE_CAPABILITY);
    for (const capability of CAPABILITIES) if (!capabilities.includes(capability)) warn('extension', `knowledgeCapability ${capability} missing`);
    if (extensionCodes(r.extension, KNOWLEDGE_REPRESENTATION_LEVEL).length === 0) warn('extension', 'no knowledgeRepresentationLevel');
    if (type === 'PlanDefinition') checkRuleCitations(warn, (resource as { action?: unknown }).action, 'action');
  }
}

/** What is wrong with a `citation` entry: it must name its rule (label), its source (display) and quote it. */
function citationProblem(entry: RelatedArtifact): string | undefined {
  if (!nonEmptyString(entry.label)) return 'has no label (the rule id it supports)';
  if (!nonEmptyString(entry.display)) return 'has no display (the source document and section)';
  const cited = nonEmptyString(entry.citation) ? readCitation(entry) : undefined;
  if (!cited || cited.quote === entry.citation || cited.quote.trim() === '') return 'does not quote its source (a blockquote in citation)';
  return undefined;
}

/**
 * Every action that decides or orders something (an applicability condition or a definition) rests
 * on a rule of its source: it carries at least one `citation` naming the rule, the source and the
 * sentence, and each of its citations says all three.
 */
function checkRuleCitations(warn: (path: string, message: string) => void, actions: unknown, path: string): void {
  if (!Array.isArray(actions)) return;
  actions.forEach((item: unknown, index) => {
    const action = (item ?? {}) as PlanDefinitionAction;
    const at = `${path}[${index}]`;
    const documentation = Array.isArray(action.documentation) ? action.documentation : [];
    const citations = documentation.filter((d) => (d as { type?: unknown } | null)?.type === 'citation');
    const bearsRule = (Array.isArray(action.condition) && action.condition.length > 0) || nonEmptyString(action.definitionCanonical);
    if (bearsRule && citations.length === 0)
      warn(`${at}.documentation`, `action ${action.id ?? index} has no citation of the rule it encodes (type citation: label, source, quote)`);
    citations.forEach((entry, i) => {
      const problem = citationProblem(entry);
      if (problem) warn(`${at}.documentation[${documentation.indexOf(entry)}]`, `citation ${i + 1} of action ${action.id ?? index} ${problem}`);
    });
    checkRuleCitations(warn, action.action, `${at}.action`);
  });
}
