/**
 * The differential harness of the FHIRPath fast path: runs the engine as it runs in production and
 * records every (expression, focus, variables) it evaluates, then replays each one through
 * fhirpath.js (the reference) and through the fast path and compares the two.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { applyPlanDefinition, buildPatientData } from '../../src/engine/index.ts';
import { BAIL, compileFastPath, Unsupported } from '../../src/fhirpath/fast-path/index.ts';
import { compileFhirPath, errorText, type CompiledExpression } from '../../src/fhirpath/fhirpath-engine.ts';
import type { CompiledKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

export interface CapturedEvaluation {
  text: string;
  focus: unknown;
  vars: Record<string, unknown>;
}

export const PLAN_IDS = ['tubal-reanastomosis', 'hysterosalpingography', 'infertility-hysteroscopy', 'infertility-work-up-pathway'];

/**
 * The same knowledge, except that each evaluation is recorded (the variables as bound at that
 * moment: the engine adds to its variables as an apply goes on).
 */
export function capturingKnowledge(knowledge: CompiledKnowledge, sink: CapturedEvaluation[]): CompiledKnowledge {
  const capturing = Object.create(knowledge) as CompiledKnowledge;
  Object.defineProperty(capturing, 'expression', {
    value: (text: string): CompiledExpression => {
      const evaluate = knowledge.expression(text);
      return (focus, vars) => {
        sink.push({ text, focus, vars: { ...vars } });
        return evaluate(focus, vars);
      };
    },
  });
  return capturing;
}

export interface ClinicalCase {
  name: string;
  now: string;
  resources: Resource[];
}

export function clinicalCases(): ClinicalCase[] {
  return PLAN_IDS.flatMap((plan) =>
    readdirSync(join(PROJECT_ROOT, 'tests', 'protocols', plan))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const spec = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tests', 'protocols', plan, f), 'utf8')) as { now: string; bundle: { entry: { resource: Resource }[] } };
        return { name: `${plan}/${f}`, now: spec.now, resources: spec.bundle.entry.map((e) => e.resource) };
      }),
  );
}

/** Applies every plan to a patient's record through a capturing knowledge; returns what was evaluated. */
export function captureApply(knowledge: CompiledKnowledge, resources: Resource[], now: string): CapturedEvaluation[] {
  const sink: CapturedEvaluation[] = [];
  const capturing = capturingKnowledge(knowledge, sink);
  const subject = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!subject) return sink;
  // Throws (OperationOutcomeError) for a record the data boundary refuses: no FHIRPath sees it.
  const data = buildPatientData(resources);
  for (const id of PLAN_IDS) {
    const plan = knowledge.byId<PlanDefinition>('PlanDefinition', id);
    if (plan) applyPlanDefinition(plan, { subject, data }, { now, mode: 'r4' }, capturing);
  }
  return sink;
}

export interface Comparison {
  /** Evaluations whose result the fast path gave, equal to fhirpath.js's. */
  same: number;
  /** Evaluations the fast path handed to fhirpath.js (so equal by construction), errors included. */
  handedBack: number;
  /** Expressions outside the subset (fhirpath.js only). */
  unsupported: number;
  disagreements: { text: string; reference: unknown; fast: unknown; vars: Record<string, unknown> }[];
}

/** Replays each evaluation through both paths, each compiled afresh (no shared state with the apply). */
export function compareEvaluations(evaluations: CapturedEvaluation[]): Comparison {
  const out: Comparison = { same: 0, handedBack: 0, unsupported: 0, disagreements: [] };
  const reference = new Map<string, CompiledExpression>();
  const fast = new Map<string, ReturnType<typeof compileFastPath> | null>();
  for (const { text, focus, vars } of evaluations) {
    let ref = reference.get(text);
    if (!ref) reference.set(text, (ref = compileFhirPath(text)));
    let fp = fast.get(text);
    if (fp === undefined) {
      try {
        fp = compileFastPath(text);
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        fp = null;
      }
      fast.set(text, fp);
    }
    if (!fp) {
      out.unsupported++;
      continue;
    }
    let expected: unknown;
    try {
      expected = ref(focus, vars);
    } catch (err) {
      expected = { error: errorText(err) };
    }
    const actual = fp(focus, vars);
    if (actual === BAIL) out.handedBack++;
    else if (isDeepStrictEqual(actual, expected)) out.same++;
    else out.disagreements.push({ text, reference: expected, fast: actual, vars });
  }
  return out;
}
