/**
 * The protocol artifacts themselves: generated files in sync with their authoring modules, every
 * citation quoting its source verbatim, every rule of clinical-rules.md encoded and tested, every
 * expression compiling and reading only variables in scope, every canonical and local code resolving,
 * and every artifact valid R4.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivityDefinition, CodeSystem, PlanDefinition, PlanDefinitionAction, Resource, ValueSet } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { compileFhirPath } from '../../src/fhirpath/fhirpath-engine.ts';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { validateResources } from '../../src/validation/validate.ts';
import { buildArtifacts, PLANS, readme, serialize } from '../../plandefinitions/_authoring/build.ts';
import { QUOTES, sectionOf, SOURCE_DOCUMENTS } from '../../plandefinitions/_authoring/citations.ts';
import { BASE, LOCAL, type SourceFile } from '../../plandefinitions/_authoring/common.ts';
import { readCitation } from '../../src/diagram/citation.ts';
import { caseOutputs } from './cases/build.ts';
import { loadCases } from './cases/load.ts';

const SOURCES = join(PROJECT_ROOT, 'plandefinitions', 'sources');
const knowledge = loadKnowledge();
const built = buildArtifacts();
const plans = PLANS;
const activities = built.map((f) => f.resource).filter((r): r is ActivityDefinition => r.resourceType === 'ActivityDefinition');

/** Rule ids of clinical-rules.md: the first cell of each table row, e.g. `| HSG-C6 |`, `| SAFE-3 |`. */
const RULE_IDS = [...readFileSync(join(SOURCES, 'clinical-rules.md'), 'utf8').matchAll(/^\| ((?:TR|HSG|HYS|SAFE)-[A-Z0-9]+) \|/gm)].map((m) => m[1]!);
/**
 * SAFE-1 (one patient's data) is a rule of the data boundary, not of an action: it is enforced and
 * tested in src/data/patient-compartment.ts (tests/data, tests/cli, tests/server, tests/safety).
 */
const DATA_BOUNDARY_RULES = new Set(['SAFE-1']);
const ACTION_RULE_IDS = RULE_IDS.filter((id) => !DATA_BOUNDARY_RULES.has(id));

function walk(
  actions: PlanDefinitionAction[] | undefined,
  visit: (a: PlanDefinitionAction, ancestors: PlanDefinitionAction[]) => void,
  ancestors: PlanDefinitionAction[] = [],
): void {
  for (const a of actions ?? []) {
    visit(a, ancestors);
    walk(a.action, visit, [...ancestors, a]);
  }
}

const BASE_VARIABLES = new Set([
  'subject',
  'patient',
  'encounter',
  'practitioner',
  'organization',
  'userType',
  'userLanguage',
  'userTaskContext',
  'setting',
  'settingContext',
  'now',
  'today',
  'sct',
  'loinc',
  'ucum',
  'context',
  'resource',
  'rootResource',
]);

describe('protocol artifacts', () => {
  it('the committed JSON is what plandefinitions/_authoring generates (npm run build:protocols)', () => {
    for (const file of built) expect(readFileSync(join(PROJECT_ROOT, file.path), 'utf8'), file.path).toBe(serialize(file.resource));
  });

  it('plandefinitions/README.md (rule -> action -> test table) is up to date', () => {
    expect(readFileSync(join(PROJECT_ROOT, 'plandefinitions', 'README.md'), 'utf8')).toBe(readme());
  });

  it('the committed cases and examples are what tests/protocols/cases generates', () => {
    for (const out of caseOutputs()) expect(readFileSync(join(PROJECT_ROOT, out.path), 'utf8'), out.path).toBe(out.text);
  });

  it('clinical-rules.md lists the rules the protocols encode', () => {
    expect(RULE_IDS.length).toBe(60);
    expect(
      RULE_IDS.filter((id) => id.startsWith('SAFE-')),
      'the binding safety rules',
    ).toEqual(Array.from({ length: 10 }, (_, i) => `SAFE-${i + 1}`));
    expect(new Set(RULE_IDS).size).toBe(RULE_IDS.length);
  });

  it('every citation quotes its source text verbatim', () => {
    for (const [rule, quotes] of Object.entries(QUOTES)) {
      for (const q of quotes) expect(readFileSync(join(SOURCES, q.file), 'utf8').includes(q.text), `${rule}: ${q.text}`).toBe(true);
    }
    for (const plan of plans) {
      walk(plan.action, (a) => {
        for (const d of a.documentation ?? []) {
          if (d.type !== 'citation') continue;
          const where = `${plan.id}#${a.id}: ${d.citation}`;
          // A readable citation: the document by its title and section, never the local file name.
          expect(d.citation, where).not.toMatch(/\.txt\b/);
          const cited = readCitation(d);
          const file = Object.entries(SOURCE_DOCUMENTS).find(([, doc]) => d.display?.startsWith(`${doc.title}, section "`))?.[0] as SourceFile | undefined;
          expect(file, `${where}: display names a source document and section`).toBeDefined();
          const text = readFileSync(join(SOURCES, file!), 'utf8');
          expect(cited?.quote !== d.citation && text.includes(cited!.quote), `${where}: blockquote is a verbatim sentence`).toBe(true);
          expect(d.display, where).toBe(`${SOURCE_DOCUMENTS[file!].title}, section "${sectionOf({ file: file!, text: cited!.quote }, text)}"`);
          expect(d.citation, where).toContain(d.display!.replace(', section', '. Clinical expert text, English translation; section'));
          expect(RULE_IDS, `${where}: label is a rule id`).toContain(d.label);
        }
      });
    }
  });

  it('every rule maps to an action (cited in its documentation) and to at least one test case', () => {
    const cited = new Set<string>();
    for (const plan of plans)
      walk(plan.action, (a) => {
        (a.documentation ?? []).forEach((d) => d.type === 'citation' && d.label && cited.add(d.label));
      });
    const tested = new Set(loadCases().flatMap((c) => c.spec.rules));
    expect(
      ACTION_RULE_IDS.filter((id) => !cited.has(id)),
      'rules without an action',
    ).toEqual([]);
    expect(
      ACTION_RULE_IDS.filter((id) => !tested.has(id)),
      'rules without a test case',
    ).toEqual([]);
    expect(
      [...tested].filter((id) => !RULE_IDS.includes(id)),
      'test cases citing unknown rules',
    ).toEqual([]);
  });

  it('every action carries its source: a citation of a rule of its protocol', () => {
    for (const plan of plans) {
      walk(plan.action, (a) => {
        const citations = (a.documentation ?? []).filter((d) => d.type === 'citation');
        expect(citations.length, `${plan.id}#${a.id} has a citation`).toBeGreaterThan(0);
      });
    }
  });

  it('action ids are unique per plan; relatedAction and goalId targets exist', () => {
    for (const plan of plans) {
      const ids: string[] = [];
      walk(plan.action, (a) => ids.push(a.id ?? '(no id)'));
      expect(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        `${plan.id}: duplicate action ids`,
      ).toEqual([]);
      expect(ids, `${plan.id}: every action has an id`).not.toContain('(no id)');
      const goals = new Set((plan.goal ?? []).map((g) => g.id));
      walk(plan.action, (a) => {
        for (const r of a.relatedAction ?? []) expect(ids, `${plan.id}#${a.id} relatedAction`).toContain(r.actionId);
        for (const g of a.goalId ?? []) expect(goals.has(g), `${plan.id}#${a.id} goal ${g}`).toBe(true);
      });
    }
  });

  it('every FHIRPath expression compiles and reads only variables bound in its scope', () => {
    const check = (where: string, text: string | undefined, scope: Set<string>) => {
      expect(text, where).toBeTruthy();
      expect(() => compileFhirPath(text!), `${where}: ${text}`).not.toThrow();
      const used = [...text!.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
      const defined = new Set([...text!.matchAll(/defineVariable\('([^']+)'/g)].map((m) => m[1]!));
      for (const v of used) expect(scope.has(v) || BASE_VARIABLES.has(v) || defined.has(v), `${where}: %${v} is not bound`).toBe(true);
    };
    for (const plan of plans) {
      walk(plan.action, (a, ancestors) => {
        const scope = new Set([...ancestors, a].flatMap((x) => (x.input ?? []).map((i) => i.id ?? '')));
        // Named expressions (R4 variable extension) of the ancestors are in scope; the action's own
        // are read in order, each seeing the ones before it.
        const isVariable = (e: { url?: string }) => e.url === 'http://hl7.org/fhir/StructureDefinition/variable';
        for (const x of ancestors) for (const e of (x.extension ?? []).filter(isVariable)) scope.add(e.valueExpression?.name ?? '');
        for (const e of (a.extension ?? []).filter(isVariable)) {
          check(`${plan.id}#${a.id} variable %${e.valueExpression?.name}`, e.valueExpression?.expression, scope);
          scope.add(e.valueExpression?.name ?? '');
        }
        for (const c of a.condition ?? []) check(`${plan.id}#${a.id} condition`, c.expression?.expression, scope);
        for (const d of a.dynamicValue ?? []) check(`${plan.id}#${a.id} dynamicValue ${d.path}`, d.expression?.expression, scope);
        for (const c of a.condition ?? []) expect(c.expression?.language, `${plan.id}#${a.id}`).toBe('text/fhirpath');
      });
    }
    for (const ad of activities) for (const d of ad.dynamicValue ?? []) check(`ActivityDefinition/${ad.id} ${d.path}`, d.expression?.expression, new Set());
  });

  it('every canonical resolves: definitions, value sets, included value sets and module code systems', () => {
    for (const plan of plans) {
      walk(plan.action, (a) => {
        if (a.definitionCanonical) expect(knowledge.resolve(a.definitionCanonical), `${plan.id}#${a.id} -> ${a.definitionCanonical}`).toBeDefined();
        for (const input of a.input ?? []) {
          for (const f of input.codeFilter ?? []) if (f.valueSet) expect(knowledge.valueSetKeys(f.valueSet), `${plan.id}#${a.id} ${f.valueSet}`).toBeDefined();
        }
      });
      for (const r of plan.relatedArtifact ?? []) if (r.resource) expect(knowledge.resolve(r.resource), r.resource).toBeDefined();
    }
    for (const file of built) {
      if (file.resource.resourceType !== 'ValueSet') continue;
      const vs = file.resource;
      for (const inc of vs.compose?.include ?? []) {
        for (const nested of inc.valueSet ?? []) expect(knowledge.resolve(nested, 'ValueSet'), `${vs.id} includes ${nested}`).toBeDefined();
        if (inc.system?.startsWith(BASE)) expect(knowledge.resolve(inc.system, 'CodeSystem'), `${vs.id} system ${inc.system}`).toBeDefined();
      }
    }
  });

  it('every local code used exists in the local CodeSystem', () => {
    const cs = knowledge.resolve<CodeSystem>(LOCAL, 'CodeSystem')!;
    const defined = new Set((cs.concept ?? []).map((c) => c.code));
    const text = built.map((f) => JSON.stringify(f.resource)).join('\n');
    const used = new Set<string>();
    // Codings: {"system":"<LOCAL>","code":"x"}; value sets list concepts under their include.system.
    for (const m of text.matchAll(new RegExp(`"system":"${LOCAL.replace(/[/.]/g, '\\$&')}","code":"([^"]+)"`, 'g'))) used.add(m[1]!);
    for (const f of built) {
      if (f.resource.resourceType !== 'ValueSet') continue;
      for (const inc of f.resource.compose?.include ?? []) if (inc.system === LOCAL) for (const c of inc.concept ?? []) used.add(c.code);
    }
    // Expressions: system = '<LOCAL>' and code = 'x' / code in ('x' | 'y').
    for (const m of text.matchAll(new RegExp(`system = '${LOCAL.replace(/[/.]/g, '\\$&')}' and code (?:= '([^']+)'|in \\(([^)]*)\\))`, 'g'))) {
      if (m[1]) used.add(m[1]);
      for (const c of (m[2] ?? '').matchAll(/'([^']+)'/g)) used.add(c[1]!);
    }
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((c) => !defined.has(c))).toEqual([]);
  });

  it('every artifact is valid R4', () => {
    const problems = validateResources(built.map((f) => f.resource)).flatMap(({ resource, outcome }) =>
      (outcome.issue ?? [])
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => `${resource.resourceType}/${resource.id}: ${i.details?.text ?? i.diagnostics} @ ${i.expression?.join(', ')}`),
    );
    expect(problems).toEqual([]);
  });

  it('the PlanDefinitions have the ids, canonical urls, version, type and status integrators rely on', () => {
    for (const id of ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy']) {
      const plan = knowledge.resolve<PlanDefinition>(`${BASE}/PlanDefinition/${id}|0.1.0`, 'PlanDefinition');
      expect(plan?.id).toBe(id);
      expect(plan?.status).toBe('draft');
      expect(plan?.type?.coding?.[0]?.code).toBe('clinical-protocol');
    }
    for (const ad of activities) {
      expect(ad.url).toBe(`${BASE}/ActivityDefinition/${ad.id}`);
      expect(ad.version).toBe('0.1.0');
    }
    for (const plan of plans) walk(plan.action, (a) => a.definitionCanonical && expect(a.definitionCanonical, `${plan.id}#${a.id}`).toMatch(/\|0\.1\.0$/));
  });
});
