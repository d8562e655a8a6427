/**
 * Writes the protocol artifacts as JSON: `npm run build:protocols`.
 * The same function feeds the sync test, so the committed JSON is exactly what these modules say.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { activityDefinitions } from './activities.ts';
import { hysterosalpingography } from './hysterosalpingography.ts';
import { hysteroscopy } from './infertility-hysteroscopy.ts';
import { pathwayPlan } from './pathway.ts';
import type { Procedure } from './procedure.ts';
import { renderReadme, type CaseRef } from './readme.ts';
import { codeSystems, valueSets } from './terminology.ts';
import { withCpgMetadata } from './cpg-metadata.ts';
import { renderSignOff, ruleStatements, signOffRows } from './sign-off.ts';
import { tubalReanastomosis } from './tubal-reanastomosis.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BuiltFile {
  /** Path relative to the project root. */
  path: string;
  resource: Resource;
}

/**
 * The procedures (each one `defineProcedure` module: its PlanDefinition, its own ActivityDefinitions
 * and the CDS hooks it is served on). A new procedure is added here and nowhere in src/.
 */
export const PROCEDURES: Procedure[] = [tubalReanastomosis, hysterosalpingography, hysteroscopy];

export const PLANS = [...PROCEDURES.map((p) => p.plan), pathwayPlan];

export function buildArtifacts(): BuiltFile[] {
  const files: BuiltFile[] = [];
  for (const cs of codeSystems) files.push({ path: `profiles/CodeSystem-${cs.id}.json`, resource: cs });
  for (const vs of valueSets) files.push({ path: `profiles/ValueSet-${vs.id}.json`, resource: vs });
  for (const plan of PLANS) files.push({ path: `plandefinitions/${plan.id}/PlanDefinition-${plan.id}.json`, resource: plan });
  for (const { folder, resource } of [...activityDefinitions, ...PROCEDURES.flatMap((p) => p.activities)]) {
    files.push({ path: `plandefinitions/${folder}/ActivityDefinition-${resource.id}.json`, resource });
  }
  return files.map((f) => ({ ...f, resource: withCpgMetadata(f.resource) }));
}

/** Rule ids of clinical-rules.md (first cell of each table row). */
export function ruleIds(): string[] {
  const text = readFileSync(join(ROOT, 'plandefinitions', 'sources', 'clinical-rules.md'), 'utf8');
  return [...text.matchAll(/^\| ((?:TR|HSG|HYS|SAFE)-[A-Z0-9]+) \|/gm)].map((m) => m[1]!);
}

/** The test cases on disk (tests/protocols/<plan>/<case>.json): plan, name and rules. */
export function caseRefs(): CaseRef[] {
  const dir = join(ROOT, 'tests', 'protocols');
  const refs: CaseRef[] = [];
  for (const plan of readdirSync(dir).sort()) {
    if (plan === 'cases' || !statSync(join(dir, plan)).isDirectory()) continue;
    for (const file of readdirSync(join(dir, plan))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const { rules } = JSON.parse(readFileSync(join(dir, plan, file), 'utf8')) as { rules: string[] };
      refs.push({ plan, name: file.replace(/\.json$/, ''), rules });
    }
  }
  return refs;
}

export const readme = (): string => renderReadme(PLANS, caseRefs(), ruleIds());

/** docs/rules-<protocol>.md, the sign-off tables (see sign-off.ts). */
export function signOffDocs(): { path: string; text: string }[] {
  const cases = caseRefs();
  const statements = ruleStatements(ROOT);
  return PROCEDURES.map(({ plan }) => ({ path: `docs/rules-${plan.id ?? ''}.md`, text: renderSignOff(plan, signOffRows(plan, cases, statements)) }));
}

export const serialize = (resource: Resource): string => `${JSON.stringify(resource, null, 2)}\n`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of buildArtifacts()) {
    const path = join(ROOT, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, serialize(file.resource));
  }
  writeFileSync(join(ROOT, 'plandefinitions', 'README.md'), readme());
  for (const doc of signOffDocs()) writeFileSync(join(ROOT, doc.path), doc.text);
  process.stdout.write(`wrote ${buildArtifacts().length} artifacts and plandefinitions/README.md\n`);
}
