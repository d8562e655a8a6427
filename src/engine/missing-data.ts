/**
 * Missing data is its own state: when a required input is empty the action is not applied, and the
 * result carries one CPG `collect-information` Task per missing input naming what to collect, so
 * an app can fetch it and apply again. Never a guess either way.
 */
import type { CodeableConcept, Coding, DataRequirement, Patient, Reference, RequestGroupAction, Task, ValueSet } from '@medplum/fhirtypes';
import type { CompiledKnowledge } from '../knowledge/compiled-knowledge.ts';
import { copyJson } from '../util/copy-json.ts';
import { requirementCodings } from './inputs.ts';
import { CPG_ACTIVITY_TYPE_SYSTEM, type MissingInput } from './types.ts';

const COLLECT_INFORMATION: CodeableConcept = {
  coding: [{ system: CPG_ACTIVITY_TYPE_SYSTEM, code: 'collect-information', display: 'Collect information' }],
};

interface Pending {
  inputId: string;
  requirement: DataRequirement;
  codings: Coding[];
  neededBy: string[];
  /** What record() returned, so the Task id can be filled in once it is allocated. */
  reported: MissingInput[];
}

/** What to collect, for people: a named code, else the ValueSet's title, else the type and input id. */
function label(p: Pending, knowledge: CompiledKnowledge): string {
  // An element of a resource with no code of its own (Patient.birthDate) is named by its path.
  if (p.requirement.mustSupport?.length && !p.requirement.codeFilter?.length) return elementNames(p.requirement);
  const filter = p.requirement.codeFilter?.[0];
  const named = filter?.code?.find((c) => c.display)?.display;
  if (named) return named;
  if (filter?.valueSet) {
    const vs = knowledge.resolve<ValueSet>(filter.valueSet, 'ValueSet');
    if (vs?.title ?? vs?.name) return (vs.title ?? vs.name)!;
  }
  return p.codings.find((c) => c.display)?.display ?? filter?.code?.[0]?.code ?? `${p.requirement.type} (${p.inputId})`;
}

function elementNames(requirement: DataRequirement): string {
  return (requirement.mustSupport ?? []).map((e) => `${requirement.type}.${e}`).join(', ');
}

/**
 * Collects missing inputs across the whole apply, one Task per data asked for: two inputs that ask
 * for the same data (the same DataRequirement under another element id - ids are unique within a
 * PlanDefinition, so a second group asking for it names it differently) share the first one's Task
 * (SAFE-6: each item is asked for once).
 */
export class MissingDataCollector {
  private readonly pending = new Map<string, Pending>();
  private readonly knowledge: CompiledKnowledge;

  constructor(knowledge: CompiledKnowledge) {
    this.knowledge = knowledge;
  }

  record(inputId: string, requirement: DataRequirement, neededBy: string): MissingInput {
    const { id: _id, ...asked } = requirement;
    const key = JSON.stringify(asked);
    let p = this.pending.get(key);
    if (!p) {
      p = { inputId, requirement, codings: requirementCodings(requirement, this.knowledge), neededBy: [], reported: [] };
      this.pending.set(key, p);
    }
    if (!p.neededBy.includes(neededBy)) p.neededBy.push(neededBy);
    const missing: MissingInput = { inputId, type: requirement.type, codes: p.codings.map((c) => `${c.system ?? ''}|${c.code ?? ''}`), taskId: taskId(p.inputId) };
    p.reported.push(missing);
    return missing;
  }

  get size(): number {
    return this.pending.size;
  }

  /** The Tasks and the RequestGroup actions that point to them, in first-seen order. */
  build(subject: Reference<Patient>, status: 'draft' | 'active', nowText: string, allocateId: (base: string) => string): { tasks: Task[]; actions: RequestGroupAction[] } {
    const tasks: Task[] = [];
    const actions: RequestGroupAction[] = [];
    for (const p of this.pending.values()) {
      const what = label(p, this.knowledge);
      const description = `Collect ${what} (${p.requirement.type}): needed to decide ${p.neededBy.join(', ')}.`;
      const id = allocateId(taskId(p.inputId));
      for (const m of p.reported) m.taskId = id;
      const task: Task = {
        resourceType: 'Task',
        id,
        status: status === 'active' ? 'requested' : 'draft',
        intent: 'option',
        priority: 'routine',
        code: COLLECT_INFORMATION,
        description,
        for: subject,
        authoredOn: nowText,
        input: [{ type: { text: 'Data requirement' }, valueDataRequirement: copyJson(p.requirement) }],
      };
      if (p.codings.length > 0) task.reasonCode = { coding: copyJson(p.codings), text: what };
      else if (p.requirement.mustSupport?.length) task.reasonCode = { text: elementNames(p.requirement) };
      tasks.push(task);
      actions.push({
        id,
        title: `Collect: ${what}`,
        description,
        code: [COLLECT_INFORMATION],
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/action-type', code: 'create' }] },
        resource: { reference: `#${task.id}` },
      });
    }
    return { tasks, actions };
  }
}

function taskId(inputId: string): string {
  return `collect-${inputId}`.slice(0, 64);
}
