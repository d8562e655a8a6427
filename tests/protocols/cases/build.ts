/**
 * Writes the clinical test cases (tests/protocols/<plan>/<case>.json) and the example patients
 * (examples/<case>.json, the cases marked `example`): `npm run build:protocol-cases`.
 * A test checks the committed files equal what these modules say.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HSG_CASES } from './hysterosalpingography.ts';
import { HYS_CASES } from './infertility-hysteroscopy.ts';
import { PATHWAY_CASES } from './infertility-work-up-pathway.ts';
import { SAFETY_AUDIT_CASES } from './safety-audit.ts';
import { bundleOf, type CaseSpec } from './schema.ts';
import { TR_CASES } from './tubal-reanastomosis.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ALL_CASES: CaseSpec[] = [...TR_CASES, ...HSG_CASES, ...HYS_CASES, ...PATHWAY_CASES, ...SAFETY_AUDIT_CASES];

/**
 * Examples are loaded side by side (demo, FHIR server): give every resource an id unique to its
 * scenario (`<scenario>-<id>`, within FHIR's 64 characters) and rewrite the references to match.
 */
export function withScenarioIds(spec: CaseSpec): CaseSpec {
  const prefix = spec.name.slice(0, 40);
  const ids = new Map(spec.resources.map((r) => [`${r.resourceType}/${r.id}`, `${prefix}-${r.id}`.slice(0, 64)]));
  const text = JSON.stringify(spec.resources).replace(/"reference":"([A-Za-z]+)\/([^"]+)"/g, (all, type: string, id: string) => {
    const mapped = ids.get(`${type}/${id}`);
    return mapped ? `"reference":"${type}/${mapped}"` : all;
  });
  const resources = (JSON.parse(text) as CaseSpec['resources']).map((r) => ({ ...r, id: ids.get(`${r.resourceType}/${r.id}`) }));
  return { ...spec, resources };
}

export interface CaseOutput {
  path: string;
  text: string;
}

export function caseOutputs(): CaseOutput[] {
  const out: CaseOutput[] = [];
  for (const spec of ALL_CASES) {
    const file = {
      description: spec.description,
      rules: spec.rules,
      now: spec.now,
      bundle: bundleOf(spec),
      ...(spec.nonConforming ? { nonConforming: spec.nonConforming } : {}),
      expect: spec.expect,
    };
    out.push({ path: `tests/protocols/${spec.plan}/${spec.name}.json`, text: `${JSON.stringify(file, null, 2)}\n` });
    if (spec.example) out.push({ path: `examples/${spec.name}.json`, text: `${JSON.stringify(bundleOf(withScenarioIds(spec)), null, 2)}\n` });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputs = caseOutputs();
  for (const { path, text } of outputs) {
    const full = join(ROOT, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  process.stdout.write(`wrote ${outputs.length} files\n`);
}
