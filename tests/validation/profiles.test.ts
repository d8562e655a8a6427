import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../../src/errors/operation-outcome.ts';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import type { ProfileSpec } from '../../profiles/_authoring/profile-specs.ts';
import { PROFILE_SPECS, profileUrl } from '../../profiles/_authoring/profile-specs.ts';
import { r4BaseDefinition } from '../../src/validation/r4-definitions.ts';
import { buildProfile, serializeProfile } from '../../profiles/_authoring/build-profile.ts';
import { profileSelector } from '../../src/validation/profile-selector.ts';
import { PROFILES_DIR, isValid, validateResources } from '../../src/validation/validate.ts';

const definitions = readArtifacts([PROFILES_DIR])
  .map((a) => a.resource)
  .filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');

describe('profiles/StructureDefinition-*.json', () => {
  it('holds exactly one StructureDefinition per spec', () => {
    expect(definitions.map((sd) => sd.id).sort()).toEqual(PROFILE_SPECS.map((s) => s.id).sort());
  });

  it.each(PROFILE_SPECS.map((spec) => ({ id: spec.id, spec })))('$id is the build output of its spec (re-run scripts/build-profiles.ts)', ({ spec }) => {
    const file = readFileSync(join(PROFILES_DIR, `StructureDefinition-${spec.id}.json`), 'utf8');
    expect(file).toBe(serializeProfile(buildProfile(spec, r4BaseDefinition(spec.type), r4BaseDefinition)));
  });

  it.each(definitions.map((sd) => ({ id: sd.id, sd })))('$id has canonical metadata, a differential and a full snapshot', ({ sd }) => {
    expect(sd.url).toBe(`http://infertility-protocols.org/fhir/StructureDefinition/${sd.id}`);
    expect(sd).toMatchObject({ version: '0.1.0', status: 'draft', fhirVersion: '4.0.1', derivation: 'constraint', abstract: false });
    expect(sd.kind).toBe(sd.type === 'Extension' ? 'complex-type' : 'resource');
    if (sd.type === 'Extension') expect(sd.context?.length).toBeGreaterThan(0);
    expect(sd.baseDefinition).toBe(`http://hl7.org/fhir/StructureDefinition/${sd.type}`);
    const base = r4BaseDefinition(sd.type);
    const snapshot = sd.snapshot?.element ?? [];
    const differential = sd.differential?.element ?? [];
    expect(differential.length).toBeGreaterThan(1);
    // Every base element is in the snapshot, in the base order.
    const unsliced = snapshot.filter((e) => !e.id?.includes(':')).map((e) => e.id);
    expect(unsliced).toEqual(base.snapshot?.element.map((e) => e.id));
    // Every differential element is reflected in the snapshot.
    for (const diff of differential) {
      const target = snapshot.find((e) => e.id === diff.id);
      expect(target, diff.id).toBeDefined();
      const { constraint, ...rest } = diff;
      expect(target).toMatchObject(rest);
      for (const c of constraint ?? []) expect(target?.constraint).toContainEqual(c);
    }
  });

  it('carry the selector the validator applies them by (the validator reads the generated files, not the specs)', () => {
    for (const spec of PROFILE_SPECS) {
      const sd = definitions.find((d) => d.id === spec.id)!;
      expect(profileSelector(sd), spec.id).toBe(spec.appliesWhen);
    }
  });

  it('are themselves valid R4 StructureDefinitions', () => {
    for (const { resource, outcome } of validateResources(definitions)) {
      expect(isValid(outcome), `${resource.id}: ${JSON.stringify(outcome.issue)}`).toBe(true);
    }
  });

  it('put every invariant on the root element, attributed to the profile', () => {
    for (const spec of PROFILE_SPECS) {
      const sd = definitions.find((d) => d.id === spec.id)!;
      const root = sd.snapshot!.element[0]!;
      for (const inv of spec.invariants) {
        expect(root.constraint).toContainEqual(expect.objectContaining({ key: inv.key, expression: inv.expression, source: profileUrl(spec) }));
      }
    }
  });
});

describe('snapshot generator', () => {
  const spec = (elements: ElementDefinition[]): ProfileSpec => ({
    id: 'ip-test',
    name: 'IpTest',
    title: 'test',
    type: 'Observation',
    description: 'test',
    ruleIds: [],
    appliesWhen: 'false',
    elements: elements as ProfileSpec['elements'],
    invariants: [],
  });
  const build = (elements: ElementDefinition[]): StructureDefinition => buildProfile(spec(elements), r4BaseDefinition('Observation'));

  it('narrows cardinality and types', () => {
    const sd = build([{ id: 'Observation.value[x]', path: 'Observation.value[x]', min: 1, type: [{ code: 'dateTime' }] }]);
    const value = sd.snapshot!.element.find((e) => e.id === 'Observation.value[x]')!;
    expect(value).toMatchObject({ min: 1, max: '1', type: [{ code: 'dateTime' }], base: { min: 0, max: '1' } });
  });

  it.each([
    { what: 'a min below the base', el: { id: 'Observation.status', path: 'Observation.status', min: 0 }, msg: /min 0 is below the base min 1/ },
    { what: 'a max above the base', el: { id: 'Observation.code', path: 'Observation.code', max: '*' }, msg: /max \* exceeds the base max 1/ },
    { what: 'a type the base does not allow', el: { id: 'Observation.value[x]', path: 'Observation.value[x]', type: [{ code: 'Age' }] }, msg: /type Age is not allowed/ },
    { what: 'an element the base does not have', el: { id: 'Observation.colour', path: 'Observation.colour', min: 1 }, msg: /no such element/ },
    {
      what: 'a target the base does not allow',
      el: { id: 'Observation.subject', path: 'Observation.subject', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Organization'] }] },
      msg: /target profile .*Organization is not allowed/,
    },
  ])('refuses $what', ({ el, msg }) => {
    expect(() => build([el])).toThrow(OperationOutcomeError);
    expect(() => build([el])).toThrow(msg);
  });

  it('inserts slices after the sliced element with their own children', () => {
    const sd = build([
      { id: 'Observation.component', path: 'Observation.component', slicing: { discriminator: [{ type: 'pattern', path: 'code' }], rules: 'open' } },
      { id: 'Observation.component:a', path: 'Observation.component', sliceName: 'a', min: 1, max: '1' },
    ]);
    const ids = sd.snapshot!.element.map((e) => e.id!);
    const start = ids.indexOf('Observation.component:a');
    expect(start).toBeGreaterThan(ids.indexOf('Observation.component.referenceRange'));
    expect(ids.slice(start)).toEqual([
      'Observation.component:a',
      'Observation.component:a.id',
      'Observation.component:a.extension',
      'Observation.component:a.modifierExtension',
      'Observation.component:a.code',
      'Observation.component:a.value[x]',
      'Observation.component:a.dataAbsentReason',
      'Observation.component:a.interpretation',
      'Observation.component:a.referenceRange',
    ]);
    expect(sd.snapshot!.element[start]).toMatchObject({ sliceName: 'a', min: 1, max: '1', path: 'Observation.component' });
    expect(sd.snapshot!.element[start]!.slicing).toBeUndefined();
  });

  it('is deterministic', () => {
    const s = PROFILE_SPECS[0]!;
    expect(serializeProfile(buildProfile(s, r4BaseDefinition(s.type)))).toBe(serializeProfile(buildProfile(s, r4BaseDefinition(s.type))));
  });
});
