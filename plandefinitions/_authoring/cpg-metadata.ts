/**
 * CPG-on-FHIR metadata for every generated artifact, added in one place after the logic is built:
 * the CPG profiles in meta.profile, knowledgeCapability and knowledgeRepresentationLevel, contact,
 * copyright (with the SNOMED CT / LOINC statements where their codes are used), useContext, and a
 * generated narrative (a readable summary of the actions, their conditions and the rules they cite).
 * Metadata only: nothing here changes what an artifact decides. src/lint/content-rules.ts checks
 * that these stay present.
 */
import type { ActivityDefinition, CodeSystem, ContactDetail, Extension, PlanDefinition, PlanDefinitionAction, Resource, UsageContext, ValueSet } from '@medplum/fhirtypes';
import { ruleCitations } from '../../src/diagram/citation.ts';
import { LOINC, SCT } from './common.ts';

const CPG = 'http://hl7.org/fhir/uv/cpg/StructureDefinition';
export const KNOWLEDGE_CAPABILITY = 'http://hl7.org/fhir/StructureDefinition/cqf-knowledgeCapability';
export const KNOWLEDGE_REPRESENTATION_LEVEL = 'http://hl7.org/fhir/StructureDefinition/cqf-knowledgeRepresentationLevel';

const PROFILES: Record<string, string[]> = {
  PlanDefinition: [`${CPG}/cpg-computableplandefinition`, `${CPG}/cpg-shareableplandefinition`, `${CPG}/cpg-publishableplandefinition`],
  ActivityDefinition: [`${CPG}/cpg-computableactivity`, `${CPG}/cpg-shareableactivitydefinition`, `${CPG}/cpg-publishableactivity`],
  ValueSet: [`${CPG}/cpg-computablevalueset`, 'http://hl7.org/fhir/StructureDefinition/shareablevalueset'],
  CodeSystem: ['http://hl7.org/fhir/StructureDefinition/shareablecodesystem'],
};

const CONTACT: ContactDetail[] = [{ name: 'infertility-protocols maintainers', telecom: [{ system: 'url', value: 'http://infertility-protocols.org' }] }];

const USE_CONTEXT: UsageContext[] = [
  {
    code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'focus' },
    valueCodeableConcept: { coding: [{ system: SCT, code: '6738008', display: 'Female infertility' }] },
  },
  {
    code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'gender' },
    valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/administrative-gender', code: 'female', display: 'Female' }] },
  },
  {
    code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'venue' },
    valueCodeableConcept: { text: 'Gynaecology and reproductive medicine outpatient and day-surgery services' },
  },
];

const JURISDICTION = [{ coding: [{ system: 'urn:iso:std:iso:3166', code: 'CN', display: 'China' }] }];

const OWN = 'Copyright the infertility-protocols contributors; the artifacts are licensed under Apache-2.0.';
const SNOMED_STATEMENT =
  'This material includes SNOMED Clinical Terms (SNOMED CT), used by permission of SNOMED International; all rights reserved. SNOMED and SNOMED CT are registered trademarks of SNOMED International. Implementers need an appropriate SNOMED CT Affiliate licence.';
const LOINC_STATEMENT =
  'This material contains content from LOINC (https://loinc.org), copyright Regenstrief Institute, Inc. and the LOINC Committee, available at no cost under the licence at https://loinc.org/license. LOINC is a registered United States trademark of Regenstrief Institute, Inc.';

/** The copyright text: ours, and the statements of the terminologies whose codes the resource uses. */
export function copyrightFor(resource: Resource): string {
  const text = JSON.stringify(resource);
  return [OWN, ...(text.includes(`"${SCT}"`) ? [SNOMED_STATEMENT] : []), ...(text.includes(`"${LOINC}"`) ? [LOINC_STATEMENT] : [])].join(' ');
}

const EVIDENCE =
  'Evidence: a single clinical source text per protocol (expert guidance, translated), not graded (no GRADE assessment); every rule quotes its sentence. Status draft and experimental: for evaluation, not for clinical use without local clinical sign-off.';

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const div = (body: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>`;

function actionItems(actions: PlanDefinitionAction[] | undefined): string {
  if (!actions?.length) return '';
  const items = actions.map((a) => {
    const when = (a.condition ?? []).filter((c) => c.kind === 'applicability').map((c) => c.expression?.description ?? c.expression?.expression ?? '');
    const rules = [...new Set(ruleCitations(a.documentation).map((c) => c.rule))];
    const parts = [`<b>${esc(a.title ?? a.id ?? '')}</b>`];
    if (when.length) parts.push(`when ${esc(when.join('; and '))}`);
    if (rules.length) parts.push(`rules ${esc(rules.join(', '))}`);
    return `<li>${parts.join(' - ')}${actionItems(a.action)}</li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

function citedRules(plan: PlanDefinition): string {
  const quotes = new Map<string, Set<string>>();
  const walk = (actions: PlanDefinitionAction[] | undefined) => {
    for (const a of actions ?? []) {
      for (const c of ruleCitations(a.documentation)) {
        const set = quotes.get(c.rule) ?? new Set<string>();
        set.add(`"${c.quote}" (${c.source ?? ''})`);
        quotes.set(c.rule, set);
      }
      walk(a.action);
    }
  };
  walk(plan.action);
  if (quotes.size === 0) return '';
  const rows = [...quotes].map(([rule, cited]) => `<li>${esc(rule)}: ${[...cited].map(esc).join(' ')}</li>`);
  return `<p>Sources quoted, by rule:</p><ul>${rows.join('')}</ul>`;
}

function planNarrative(plan: PlanDefinition): string {
  return div(
    `<h2>${esc(plan.title ?? plan.name ?? plan.id ?? '')}</h2><p>${esc(plan.description ?? '')}</p><p>${esc(EVIDENCE)}</p><p>Actions:</p>${actionItems(plan.action)}${citedRules(plan)}`,
  );
}

function activityNarrative(ad: ActivityDefinition): string {
  const code = ad.code?.coding?.map((c) => `${c.display ?? c.code ?? ''} (${c.system ?? ''}#${c.code ?? ''})`).join(', ');
  return div(`<p><b>${esc(ad.title ?? ad.name ?? ad.id ?? '')}</b> (${esc(ad.kind ?? '')}${code ? `: ${esc(code)}` : ''})</p><p>${esc(ad.description ?? '')}</p>`);
}

function valueSetNarrative(vs: ValueSet): string {
  const codes = (vs.compose?.include ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `<li>${esc(c.display ?? '')} (${esc(inc.system ?? '')}#${esc(c.code)})</li>`));
  return div(`<p><b>${esc(vs.title ?? vs.name ?? vs.id ?? '')}</b>: ${esc(vs.description ?? '')}</p><ul>${codes.join('')}</ul>`);
}

function codeSystemNarrative(cs: CodeSystem): string {
  const codes = (cs.concept ?? []).map((c) => `<li>${esc(c.code)}: ${esc(c.display ?? '')}</li>`);
  return div(`<p><b>${esc(cs.title ?? cs.name ?? cs.id ?? '')}</b> (content: ${esc(cs.content)}): ${esc(cs.description ?? '')}</p><ul>${codes.join('')}</ul>`);
}

function capabilityExtensions(level: 'structured' | 'executable'): Extension[] {
  return [
    ...['shareable', 'computable', 'publishable', 'executable'].map((code) => ({ url: KNOWLEDGE_CAPABILITY, valueCode: code })),
    { url: KNOWLEDGE_REPRESENTATION_LEVEL, valueCode: level },
  ];
}

/** The resource with its CPG metadata; other resource types are returned unchanged. */
export function withCpgMetadata(resource: Resource): Resource {
  const profiles = PROFILES[resource.resourceType];
  if (!profiles) return resource;
  // The copyright covers the codes of the useContext added here too (SNOMED CT).
  const common = { contact: CONTACT, copyright: copyrightFor({ ...resource, useContext: USE_CONTEXT } as Resource), jurisdiction: JURISDICTION };
  // Key order: the metadata after the identity elements, the logic last, as the authoring wrote it.
  const { resourceType, id, extension = [], ...rest } = resource as Resource & { extension?: Extension[] };
  const head = { resourceType, id, meta: { profile: profiles } };
  const own = extension.length ? { extension } : {};
  switch (resource.resourceType) {
    case 'PlanDefinition': {
      const plan = resource;
      return {
        ...head,
        text: { status: 'generated', div: planNarrative(plan) },
        extension: [...capabilityExtensions('executable'), ...extension],
        ...rest,
        ...common,
        useContext: USE_CONTEXT,
      } as Resource;
    }
    case 'ActivityDefinition': {
      const ad = resource;
      // Dynamic values make an activity executable; a plain order is structured.
      const level = ad.dynamicValue?.length ? 'executable' : 'structured';
      return {
        ...head,
        text: { status: 'generated', div: activityNarrative(ad) },
        extension: [...capabilityExtensions(level), ...extension],
        ...rest,
        ...common,
        useContext: USE_CONTEXT,
      } as Resource;
    }
    case 'ValueSet':
      return { ...head, text: { status: 'generated', div: valueSetNarrative(resource) }, ...own, ...rest, ...common, useContext: USE_CONTEXT } as Resource;
    default:
      return { ...head, text: { status: 'generated', div: codeSystemNarrative(resource as CodeSystem) }, ...own, ...rest, ...common, useContext: USE_CONTEXT } as Resource;
  }
}
