/**
 * The npm package ships the StructureDefinitions without `snapshot` (scripts/pack.ts); reading
 * them must give back exactly the committed profiles, snapshot included and in the same place, so
 * that validation, the FHIR server's reads and the `package` command see what the checkout has.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { withGeneratedSnapshot } from '../../src/validation/snapshot.ts';
import { ROOT } from '../support/cli.ts';

const PROFILES = join(ROOT, 'profiles');
const files = readdirSync(PROFILES).filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'));
const stripped = mkdtempSync(join(tmpdir(), 'ip-profiles-'));

afterAll(() => {
  rmSync(stripped, { recursive: true, force: true });
});

describe('profiles shipped without snapshot', () => {
  it('there are constraint profiles to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s: read without its snapshot, it is the committed file (same JSON, same key order)', (file) => {
    const committed = readFileSync(join(PROFILES, file), 'utf8');
    const { snapshot, ...withoutSnapshot } = JSON.parse(committed) as { snapshot?: unknown };
    expect(snapshot).toBeDefined();
    writeFileSync(join(stripped, file), JSON.stringify(withoutSnapshot));
    const [loaded] = readArtifacts([join(stripped, file)]);
    expect(JSON.stringify(loaded!.resource)).toBe(JSON.stringify(JSON.parse(committed)));
  });

  it('a profile that has its snapshot, or is not a constraint on an R4 type, is left as it is', () => {
    const withSnapshot = {
      resourceType: 'StructureDefinition',
      derivation: 'constraint',
      type: 'Observation',
      snapshot: { element: [] },
      differential: { element: [{ id: 'Observation', path: 'Observation' }] },
    };
    expect(withGeneratedSnapshot(withSnapshot)).toBe(withSnapshot);
    const onOtherBase = {
      resourceType: 'StructureDefinition',
      derivation: 'constraint',
      type: 'Observation',
      baseDefinition: 'http://example.org/StructureDefinition/other',
      differential: { element: [{ id: 'Observation', path: 'Observation' }] },
    };
    expect(withGeneratedSnapshot(onOtherBase)).toBe(onOtherBase);
    const patient = { resourceType: 'Patient', id: 'p1' };
    expect(withGeneratedSnapshot(patient)).toBe(patient);
  });

  it('a differential that widens the base is refused with a clear message, not a wrong snapshot', () => {
    const widening = {
      resourceType: 'StructureDefinition',
      id: 'widening',
      derivation: 'constraint',
      type: 'Observation',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
      differential: { element: [{ id: 'Observation.status', path: 'Observation.status', min: 0 }] },
    };
    expect(() => withGeneratedSnapshot(widening)).toThrow(/Profile widening, element Observation.status: min 0 is below the base min 1/);
  });
});
