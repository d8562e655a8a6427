/**
 * A woman on the HyCoSy branch (iodine allergy) is told about the procedure she gets: the patient
 * texts and the premedication instruction of the preparation the branch shares with HSG name
 * HyCoSy, never HSG (audit finding 15); on the HSG branch they keep naming HSG.
 */
import type { CarePlan, Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { loadKnowledge } from '../../src/knowledge/load-artifacts.ts';
import { loadCases } from './cases/load.ts';

const knowledge = loadKnowledge();

/** Every patient-facing text of the plan's requests, by request id: instruction payloads and dosage texts. */
function patientTexts(caseName: string): Map<string, string[]> {
  const c = loadCases().find((x) => x.name === caseName);
  if (!c) throw new Error(`no case ${caseName}`);
  const resources = c.spec.bundle.entry.map((e) => e.resource as unknown as Resource);
  const subject = resources.find((r): r is Patient => r.resourceType === 'Patient');
  const plan = knowledge.byId<PlanDefinition>('PlanDefinition', c.plan);
  if (!subject || !plan) throw new Error(`${caseName}: no patient or plan`);
  const { carePlan } = applyPlanDefinition(plan, { subject, data: buildPatientData(resources) }, { now: c.spec.now }, knowledge);
  const texts = new Map<string, string[]>();
  for (const r of (carePlan as CarePlan).contained ?? []) {
    const request = r as Resource & { payload?: { contentString?: string }[]; dosageInstruction?: { text?: string }[] };
    const found = [...(request.payload ?? []).map((p) => p.contentString), ...(request.dosageInstruction ?? []).map((d) => d.text)].filter((t): t is string => !!t);
    if (found.length) texts.set(r.id ?? '', found);
  }
  return texts;
}

describe('HyCoSy patient texts', () => {
  it('name HyCoSy, never HSG, on the HyCoSy branch', () => {
    const texts = patientTexts('hsg-ci-iodine-allergy-hycosy');
    const all = [...texts.values()].flat();
    expect(all.filter((t) => t.includes('HSG'))).toEqual([]);
    expect(texts.get('hycosy-atropine')).toEqual(['Intramuscular injection 30 minutes before the HyCoSy; dose per local protocol (not stated in the source).']);
    expect(texts.get('hycosy-instruction-no-intercourse-before')).toEqual(['No sexual intercourse from the end of your period until the HyCoSy.']);
    expect(texts.get('hycosy-instruction-day')?.[0]).toMatch(/^Eat normally on the day of the HyCoSy\./);
  });

  it('name HSG on the HSG branch', () => {
    const texts = patientTexts('hsg-infertility-day-6-all-ready');
    expect(texts.get('hsg-atropine')).toEqual(['Intramuscular injection 30 minutes before the HSG; dose per local protocol (not stated in the source).']);
    expect(texts.get('hsg-instruction-no-intercourse-before')).toEqual(['No sexual intercourse from the end of your period until the HSG.']);
  });
});
