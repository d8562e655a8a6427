/**
 * The thread that applies definitions posted inline to $apply (see inline-runner.ts for why a
 * thread). It compiles the server's artifacts once, then for each job compiles the inline
 * definition into them (`knowledge.with([inline])`), builds the patient data and runs the
 * project's engine. Nothing here touches the network or the disk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ActivityDefinition, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { compileKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { toOperationOutcome } from '../../errors/operation-outcome.ts';
import type { ApplyContext } from '../../engine/types.ts';
import { projectEngine } from '../project-engine.ts';
import type { InlineJob, InlineReply } from './inline-runner.ts';

const base = compileKnowledge((workerData as { artifacts: Resource[] }).artifacts);
warmUp();
parentPort?.postMessage({ ready: true });

/**
 * Applies each plan once to an empty record before the first job (as the server does at start):
 * the first apply on a cold engine is several times slower, and would eat the job's time budget.
 */
function warmUp(): void {
  const subject: Resource = { resourceType: 'Patient', id: 'warm-up' };
  for (const plan of base.all().filter((r): r is PlanDefinition => r.resourceType === 'PlanDefinition')) {
    try {
      projectEngine.apply(plan, { subject, data: projectEngine.buildPatientData([subject]) }, { now: '2000-01-01T00:00:00Z' }, base);
    } catch {
      // A plan that cannot be applied to an empty record is no reason not to serve inline ones.
    }
  }
}

parentPort?.on('message', (job: InlineJob) => {
  let reply: InlineReply;
  try {
    const knowledge = base.with([job.definition]);
    const context: ApplyContext = { ...job.context, data: projectEngine.buildPatientData(job.record) };
    if (job.definition.resourceType === 'PlanDefinition') {
      reply = { ok: true, plan: projectEngine.apply(job.definition, context, job.options, knowledge) };
    } else {
      reply = { ok: true, activity: projectEngine.applyActivity(job.definition as ActivityDefinition, context, job.options, knowledge) };
    }
  } catch (err) {
    reply = { ok: false, outcome: toOperationOutcome(err) };
  }
  parentPort?.postMessage(reply);
});
