import type { ActivityDefinition, Expression, Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { ApplyContext, ApplyOptions } from '../../../src/engine/types.ts';
import { applyActivityDefinition as applyWith } from '../../../src/engine/activity/index.ts';
import { compileKnowledge } from '../../../src/knowledge/compiled-knowledge.ts';
import { OperationOutcomeError } from '../../../src/errors/operation-outcome.ts';
import { activity, build, context, NOW, snomed } from './fixtures.ts';

/** ActivityDefinition/$apply with the definition compiled as its own knowledge. */
const applyActivityDefinition = (ad: ActivityDefinition, context: ApplyContext, options: ApplyOptions) => applyWith(ad, context, options, compileKnowledge([ad]));

const fp = (expression: string): Expression => ({ language: 'text/fhirpath', expression });
const lmp: Observation = { resourceType: 'Observation', id: 'lmp1', status: 'final', code: { text: 'LMP' }, valueDateTime: '2026-02-24' };
const hcg: Observation = { resourceType: 'Observation', id: 'hcg1', status: 'final', code: { text: 'hCG' }, valueString: 'negative' };

/** The HSG: days 7-11 of the cycle, after a negative pregnancy test. */
function hsg(dynamicValue: ActivityDefinition['dynamicValue'] = []): ActivityDefinition {
  return activity('ServiceRequest', {
    id: 'hsg',
    code: snomed('168884001', 'Hysterosalpingography'),
    priority: 'routine',
    dynamicValue,
  });
}

const ctx = () => context({ parameters: { lmp: [lmp], pregnancyTests: [hcg] } });

function outcomeOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome;
    throw err;
  }
  throw new Error('expected an OperationOutcomeError');
}

describe('applyActivityDefinition (standalone ActivityDefinition/$apply)', () => {
  it('maps the definition and applies its dynamicValues over the parameters', () => {
    const ad = hsg([
      { path: 'occurrencePeriod.start', expression: fp('%lmp.value.ofType(dateTime).last() + 6 days') },
      { path: 'occurrencePeriod.end', expression: fp('%lmp.value.ofType(dateTime).last() + 10 days') },
      { path: 'reasonReference', expression: fp('%pregnancyTests') },
    ]);
    const { resource, outcome } = applyActivityDefinition(ad, ctx(), { now: NOW });
    expect(resource).toMatchObject({
      resourceType: 'ServiceRequest',
      id: 'hsg',
      status: 'draft',
      intent: 'proposal',
      subject: { reference: 'Patient/p1' },
      occurrencePeriod: { start: '2026-03-02', end: '2026-03-06' },
      reasonReference: [{ reference: 'Observation/hcg1' }],
      authoredOn: NOW,
    });
    expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'information', code: 'informational' })]);
  });

  it('dynamicValues run after the mapping, in order: the later one wins', () => {
    const ad = hsg([
      { path: 'priority', expression: fp("'urgent'") },
      { path: 'priority', expression: fp("'asap'") },
    ]);
    expect(applyActivityDefinition(ad, ctx(), { now: NOW }).resource).toMatchObject({ priority: 'asap' });
  });

  it('an evaluation error lands in the outcome and the other values are still applied', () => {
    const ad = hsg([
      { path: 'occurrencePeriod.start', expression: fp('%lmp.value.(') },
      { path: 'priority', expression: fp("'urgent'") },
    ]);
    const { resource, outcome } = applyActivityDefinition(ad, ctx(), { now: NOW });
    expect(resource['priority' as keyof typeof resource]).toBe('urgent');
    expect(resource).not.toHaveProperty('occurrencePeriod');
    expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'processing', expression: ['ActivityDefinition/hsg dynamicValue[0]'] })]);
  });

  it('strict mode throws the first error as an OperationOutcome', () => {
    const ad = hsg([{ path: 'occurrencePeriod.start', expression: fp('%lmp.value.(') }]);
    const outcome = outcomeOf(() => applyActivityDefinition(ad, ctx(), { now: NOW, strict: true }));
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'processing' });
  });

  it('requires now with a time zone offset', () => {
    for (const now of ['2026-03-01T09:00:00', '2026-03-01', 'yesterday']) {
      const outcome = outcomeOf(() => applyActivityDefinition(hsg(), ctx(), { now }));
      expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'invalid' });
      expect(outcome.issue[0]?.diagnostics).toMatch(/now/);
    }
  });

  it('rejects a malformed definition at the boundary', () => {
    const notAnAd = { resourceType: 'PlanDefinition', id: 'x', status: 'active' } as unknown as ActivityDefinition;
    expect(outcomeOf(() => applyActivityDefinition(notAnAd, ctx(), { now: NOW })).issue[0]?.diagnostics).toMatch(/resourceType/);
    const noPath = { ...hsg(), dynamicValue: [{ expression: fp("'x'") }] } as unknown as ActivityDefinition;
    expect(outcomeOf(() => applyActivityDefinition(noPath, ctx(), { now: NOW })).issue[0]?.diagnostics).toMatch(/dynamicValue\.0\.path/);
  });

  it('refuses an unsupported or missing kind instead of returning a placeholder', () => {
    expect(outcomeOf(() => applyActivityDefinition(activity('Claim'), ctx(), { now: NOW })).issue[0]).toMatchObject({ code: 'not-supported' });
    expect(outcomeOf(() => applyActivityDefinition(activity('Task', { kind: undefined }), ctx(), { now: NOW })).issue[0]).toMatchObject({ code: 'invalid' });
  });

  it('honours requestStatus', () => {
    expect(applyActivityDefinition(hsg(), ctx(), { now: NOW, requestStatus: 'active' }).resource).toMatchObject({ status: 'active' });
  });

  it('is deterministic: the same input twice gives byte-identical output', () => {
    const ad = hsg([
      { path: 'occurrencePeriod.start', expression: fp('%lmp.value.ofType(dateTime).last() + 6 days') },
      { path: "extension('http://example.org/fhir/StructureDefinition/requested-at').value", expression: fp('now()') },
      { path: 'note[0].text', expression: fp('%nothing.(') },
    ]);
    const first = JSON.stringify(applyActivityDefinition(ad, ctx(), { now: NOW }));
    const second = JSON.stringify(applyActivityDefinition(ad, ctx(), { now: NOW }));
    expect(second).toBe(first);
    expect(first).toContain('"valueDateTime":"2026-03-01T09:00:00+01:00"');
  });
});

describe('buildRequest inside a PlanDefinition', () => {
  it("routes the definition's action. dynamicValues to the RequestGroup action it is given", () => {
    const action: Record<string, unknown> = { id: 'hsg' };
    const ad = hsg([{ path: 'action.title', expression: fp("'Book the HSG for cycle days 7-11'") }]);
    const { resource, issues } = build(ad, { actionTarget: action });
    expect(issues).toEqual([]);
    expect(action['title']).toBe('Book the HSG for cycle days 7-11');
    expect(resource).not.toHaveProperty('title');
  });

  it('reports an unsupported expression language and keeps the mapped request', () => {
    const cql = { language: 'text/cql-identifier', expression: 'HSG Window' } as unknown as Expression;
    const { resource, issues } = build(hsg([{ path: 'occurrencePeriod.start', expression: cql }]));
    expect((resource as { code?: unknown }).code).toEqual(snomed('168884001', 'Hysterosalpingography'));
    expect(issues).toEqual([expect.objectContaining({ code: 'processing', diagnostics: expect.stringContaining("unsupported expression language 'text/cql-identifier'") })]);
  });
});
