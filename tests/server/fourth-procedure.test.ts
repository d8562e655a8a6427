/**
 * A fourth procedure is artifacts only: a small "pelvic ultrasound" protocol (one indication, one
 * contraindication, a window) written with the authoring builder (plandefinitions/_authoring/
 * procedure.ts), loaded beside the three real protocols, is linted clean, valid R4, and served as
 * CDS services - discovery lists it with its prefetch, patient-view proposes its order in the
 * window, order-sign of a contraindicated draft gives a critical card - with no change in src/
 * (the last test checks src/ never names it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AllergyIntolerance, Condition, Observation, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { lintArtifacts } from '../../src/lint/lint-artifacts.ts';
import { buildServer, type CdsServer } from '../../src/server/app.ts';
import { validateResources } from '../../src/validation/validate.ts';
import { coding, codeInput, justify, LOCAL } from '../../plandefinitions/_authoring/common.ts';
import { defineSimpleProcedure } from '../../plandefinitions/_authoring/procedure.ts';
import { checkCdsResponse, discoverySchema } from './support/cds-response-schema.ts';
import { prefetchFromRecord } from './fixtures/real-patients.ts';

// ---- the fixture: one authoring module's worth -------------------------------------------------

/** Codes of the test procedure (a test CodeSystem: nothing here claims a real terminology code). */
const TEST = 'http://example.org/fhir/CodeSystem/fourth-procedure-test';
const ULTRASOUND = coding(TEST, 'pelvic-ultrasound', 'Pelvic ultrasound');

const pelvicUltrasound = defineSimpleProcedure({
  id: 'pelvic-ultrasound',
  title: 'Pelvic ultrasound in the infertility work-up (test)',
  description: 'A fourth procedure written as artifacts only: indication, contraindication, window.',
  purpose: 'Shows that a new procedure needs no change in src/.',
  usage: 'Apply with the patient record.',
  relatedArtifact: [],
  procedure: {
    id: 'pelvic-ultrasound',
    title: 'Pelvic ultrasound',
    description: 'Transvaginal ultrasound of the uterus and ovaries.',
    code: [ULTRASOUND],
    codeText: 'Pelvic ultrasound',
  },
  inputs: [
    codeInput('infertility', 'Condition', [coding(TEST, 'infertility', 'Female infertility')]),
    codeInput('latexAllergy', 'AllergyIntolerance', [coding(TEST, 'latex-allergy', 'Latex allergy')]),
    codeInput('mensesEnd', 'Observation', [coding(LOCAL, 'menses-end-date', 'End of menstrual bleeding')], { required: true, newestFirst: true }),
  ],
  indication: {
    ruleId: 'PUS-I1',
    expression: '%infertility.exists()',
    description: 'female infertility is recorded',
    evidence: '%infertility',
    documentation: [justify('PUS-I1', 'Test rule: an infertility work-up images the pelvis.')],
  },
  contraindications: [
    {
      id: 'pelvic-ultrasound-ci-latex',
      ruleId: 'PUS-C1',
      title: 'Do not perform the ultrasound: latex allergy',
      description: 'The probe cover is latex.',
      present: '%latexAllergy.exists()',
      evidence: '%latexAllergy',
      reason: coding(TEST, 'latex-allergy', 'Latex allergy'),
      documentation: [justify('PUS-C1', 'Test rule: the probe cover is latex.')],
    },
  ],
  window: {
    ruleId: 'PUS-T1',
    start: '%mensesEnd.first().value.ofType(dateTime) + 3 days',
    end: '%mensesEnd.first().value.ofType(dateTime) + 7 days',
    description: '3-7 days after the end of bleeding',
    documentation: [justify('PUS-T1', 'Test rule: image the pelvis 3-7 days after the end of bleeding.')],
  },
});

const artifacts: Resource[] = [pelvicUltrasound.plan, ...pelvicUltrasound.activities.map((a) => a.resource)];

// ---- the patient ------------------------------------------------------------------------------

const NOW = '2026-11-23T09:00:00Z';
const PATIENT_ID = 'pus-1';
const subject = { reference: `Patient/${PATIENT_ID}` };
const patient: Patient = { resourceType: 'Patient', id: PATIENT_ID, gender: 'female', birthDate: '1992-02-02' };
const infertility: Condition = { resourceType: 'Condition', id: 'inf', subject, code: { coding: [{ system: TEST, code: 'infertility' }] }, recordedDate: '2026-01-10' };
const mensesEnd: Observation = {
  resourceType: 'Observation',
  id: 'menses-end',
  status: 'final',
  subject,
  code: { coding: [{ system: LOCAL, code: 'menses-end-date' }] },
  effectiveDateTime: '2026-11-22',
  valueDateTime: '2026-11-22',
};
const latexAllergy: AllergyIntolerance = {
  resourceType: 'AllergyIntolerance',
  id: 'latex',
  patient: subject,
  code: { coding: [{ system: TEST, code: 'latex-allergy', display: 'Latex allergy' }] },
  recordedDate: '2024-06-01',
};
const candidate = [patient, infertility, mensesEnd];
const allergic = [patient, infertility, mensesEnd, latexAllergy];

const draft: ServiceRequest = {
  resourceType: 'ServiceRequest',
  id: 'draft-us',
  status: 'draft',
  intent: 'order',
  subject,
  code: { coding: [{ system: TEST, code: 'pelvic-ultrasound' }] },
  occurrenceDateTime: '2026-11-26',
};

// ---- the server: the real protocols plus the fourth ---------------------------------------------

let server: CdsServer;
let templates: Record<string, string> = {};

beforeAll(async () => {
  const knowledge = compileKnowledge([...loadKnowledge().all(), ...artifacts]);
  server = buildServer({ baseUrl: 'https://cds.test', auth: { required: false }, knowledge, clock: () => new Date(NOW), logStream: { write: () => undefined } });
  await server.app.ready();
  const discovery = discoverySchema.parse((await server.app.inject({ method: 'GET', url: '/cds-services' })).json());
  templates = discovery.services.find((s) => s.id === 'pelvic-ultrasound-patient-view')?.prefetch ?? {};
});
afterAll(async () => {
  await server.app.close();
});

async function call(hook: string, record: Resource[], context: Record<string, unknown> = {}) {
  const res = await server.app.inject({
    method: 'POST',
    url: `/cds-services/pelvic-ultrasound-${hook}`,
    payload: {
      hook,
      hookInstance: '0b6d1f2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f',
      context: { userId: 'Practitioner/gyn-1', patientId: PATIENT_ID, ...context },
      prefetch: prefetchFromRecord(templates, record),
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  return checkCdsResponse(res.json());
}

const signContext = { draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] } };

describe('a fourth procedure, from its artifacts only', () => {
  it('is linted clean and valid R4', () => {
    const knowledge = compileKnowledge([...loadKnowledge().all(), ...artifacts]);
    const lint = lintArtifacts(
      artifacts.map((resource) => ({ file: `${resource.resourceType}-${resource.id ?? ''}.json`, resource })),
      knowledge,
    );
    // (Warnings only: the test codes are in none of the module's ValueSets.)
    expect(lint.issue.filter((i) => i.severity === 'error').map((i) => i.diagnostics)).toEqual([]);
    const invalid = validateResources(artifacts).flatMap(({ outcome }) => outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal'));
    expect(invalid).toEqual([]);
  });

  it('discovery lists its three services beside the real ones, with the prefetch its rules read', async () => {
    const discovery = discoverySchema.parse((await server.app.inject({ method: 'GET', url: '/cds-services' })).json());
    const ids = discovery.services.map((s) => s.id);
    expect(ids.filter((id) => id.startsWith('pelvic-ultrasound-'))).toEqual(['pelvic-ultrasound-patient-view', 'pelvic-ultrasound-order-select', 'pelvic-ultrasound-order-sign']);
    expect(ids).toHaveLength(12);
    expect(templates).toEqual({
      patient: 'Patient/{{context.patientId}}',
      infertility: `Condition?patient={{context.patientId}}&code=${TEST}|infertility`,
      latexAllergy: `AllergyIntolerance?patient={{context.patientId}}&code=${TEST}|latex-allergy`,
      mensesEnd: `Observation?patient={{context.patientId}}&code=${LOCAL}|menses-end-date`,
    });
  });

  it('patient-view proposes its order in the window', async () => {
    const { cards } = await call('patient-view', candidate);
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['info', 'Pelvic ultrasound in the infertility work-up (test): Pelvic ultrasound, between 2026-11-25 and 2026-11-29'],
    ]);
    const created = cards[0]?.suggestions?.[0]?.actions?.[0]?.resource as unknown as ServiceRequest;
    expect(created.code?.coding).toEqual([ULTRASOUND]);
    expect(created.intent).toBe('proposal');
    expect(created.occurrencePeriod).toEqual({ start: '2026-11-25', end: '2026-11-29' });
    expect(created.reasonReference).toEqual([{ reference: 'Condition/inf' }]);
  });

  it('order-sign: a draft for a patient with the contraindication gets one critical card that removes it', async () => {
    const { cards } = await call('order-sign', allergic, signContext);
    expect(cards).toHaveLength(1);
    const card = cards[0];
    expect(card?.indicator).toBe('critical');
    expect(card?.summary).toBe('Pelvic ultrasound should not be performed: PUS-C1: Do not perform the ultrasound: latex allergy');
    expect(card?.detail).toContain('evidence: AllergyIntolerance: Latex allergy (2024-06-01)');
    expect(card?.suggestions?.map((s) => s.label)).toEqual(['Remove the Pelvic ultrasound order']);
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: 'Remove the draft order for Pelvic ultrasound', resourceId: 'ServiceRequest/draft-us' }]);
  });

  it('order-sign: no card when the draft is indicated and in the window, or is not its procedure', async () => {
    expect((await call('order-sign', candidate, signContext)).cards).toEqual([]);
    const other = { ...draft, code: { coding: [{ system: 'http://snomed.info/sct', code: '168884001' }] } };
    expect((await call('order-sign', allergic, { draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: other }] } })).cards).toEqual([]);
  });

  it('src/ never names it: the service came from the artifacts', () => {
    const named = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const path = join(dir, e.name);
        if (e.isDirectory()) return named(path);
        const text = readFileSync(path, 'utf8');
        return text.includes('pelvic-ultrasound') || text.includes(TEST) ? [path] : [];
      });
    expect(named(join(PROJECT_ROOT, 'src'))).toEqual([]);
  });
});
