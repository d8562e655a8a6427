/**
 * `apply --plan <id|canonical> (--data <file|-> | --server <base> --patient <id>) [--now] [--mode] [--write]`
 *
 * Applies one PlanDefinition to one patient. The output (stdout) is the R4 CarePlan or the CPG
 * Bundle; the same input and --now give the same bytes. A one-line-per-action explanation goes to
 * stderr. Exit 1 when the engine recorded expression errors (the result is still printed).
 */
import type { Command } from 'commander';
import type { Patient, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { withDataIssues } from '../../data/data-issues.ts';
import { findSubject, selectPatientCompartment, type CompartmentOptions } from '../../data/patient-compartment.ts';
import { parseInput } from '../../data/read-input.ts';
import { applyPlanDefinition, buildPatientData, type ActionTrace, type ApplyResult } from '../../engine/index.ts';
import { outcomeError } from '../../errors/operation-outcome.ts';
import { fetchPatientRecord } from '../../fhir-server/patient-record.ts';
import { writeBack } from '../../fhir-server/write-back.ts';
import type { CompiledKnowledge } from '../../knowledge/compiled-knowledge.ts';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge } from '../../knowledge/load-artifacts.ts';
import { EXIT, exitCodeOf, readTextArgument, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { FHIR_ID, ServerOptions, addServerOptions, clientFrom, nowOption, parseOptions, resolveNow } from '../options.ts';
import { fastPathOption } from '../../fhirpath/fast-path/switch.ts';

const ApplyArgs = ServerOptions.extend({
  plan: z.string().min(1),
  data: z.string().min(1).optional(),
  patient: z.string().regex(FHIR_ID, 'must be a FHIR id').optional(),
  now: nowOption,
  mode: z.enum(['r4', 'cpg']).default('r4'),
  write: z.boolean().default(false),
  knowledge: z.array(z.string().min(1)).optional(),
})
  .refine((a) => a.data || a.server, { message: 'give the data with --data <file|->, or --server <base> --patient <id>', path: ['data'] })
  .refine((a) => a.data || !a.server || a.patient, { message: 'with --server (and no --data), name the patient with --patient <id>', path: ['patient'] })
  .refine((a) => !a.write || a.server, { message: '--write needs --server', path: ['write'] });
export type ApplyArgs = z.input<typeof ApplyArgs>;

/** A plan by canonical (url or url|version) or by id; unknown -> not-found listing what exists. */
export function findPlan(knowledge: CompiledKnowledge, ref: string): PlanDefinition {
  const byCanonical = /[:/]/.test(ref) ? knowledge.resolve<PlanDefinition>(ref, 'PlanDefinition') : undefined;
  const plan = byCanonical ?? knowledge.byId<PlanDefinition>('PlanDefinition', ref);
  if (plan) return plan;
  const known = knowledge
    .all()
    .filter((r) => r.resourceType === 'PlanDefinition')
    .map((r) => `${r.id} (${r.url}${r.version ? `|${r.version}` : ''})`)
    .sort();
  throw outcomeError('not-found', `no PlanDefinition '${ref}'; known plans: ${known.join(', ') || 'none'}`);
}

function explain(traces: ActionTrace[], io: CliIo, depth = 0): void {
  for (const t of traces) {
    io.stderr(`${'  '.repeat(depth)}- ${t.actionId}: ${t.applicability} - ${t.reason}\n`);
    explain(t.children, io, depth + 1);
  }
}

export interface ApplyRun {
  result: ApplyResult;
  output: Resource;
  patient: Patient;
}

export async function runApply(raw: ApplyArgs, io: CliIo): Promise<ExitCode> {
  const args = parseOptions(ApplyArgs, raw);
  const knowledge = loadKnowledge(args.knowledge ?? DEFAULT_ARTIFACT_DIRS, fastPathOption(process.env['FHIRPATH_FAST_PATH']));
  const plan = findPlan(knowledge, args.plan);
  const now = resolveNow(args.now, io);
  const client = args.server ? await clientFrom(args, io) : undefined;

  let patient: Patient;
  let input: Resource[];
  const where: CompartmentOptions = {};
  if (args.data) {
    const source = args.data === '-' ? 'stdin' : args.data;
    const parsed = parseInput(await readTextArgument(io, args.data), source);
    input = parsed.resources;
    where.entries = parsed.entries;
    patient = findSubject(input, source, args.patient);
  } else {
    const record = await fetchPatientRecord(client!, args.patient!, knowledge.dataRequirements(plan));
    io.stderr(`fetched ${record.resources.length} resource(s) for Patient/${args.patient} via ${record.method}\n`);
    patient = record.patient;
    input = record.resources;
    where.bases = [client!.baseUrl];
  }
  // SAFE-1: only her compartment reaches the engine; what is left out is said on stderr and in the result.
  const record = selectPatientCompartment(input, patient, where);
  for (const i of record.issues) io.stderr(`warning: ${i.diagnostics}\n`);

  const result = withDataIssues(applyPlanDefinition(plan, { subject: patient, data: buildPatientData(record.resources) }, { now, mode: args.mode }, knowledge), record.issues);
  const output = args.mode === 'cpg' ? result.bundle : result.carePlan;
  if (!output) {
    throw outcomeError('exception', `the engine returned no ${args.mode === 'cpg' ? 'Bundle' : 'CarePlan'}`);
  }
  io.stderr(`applied ${plan.url ?? plan.id}${plan.version ? `|${plan.version}` : ''} to Patient/${patient.id} at ${now}:\n`);
  explain(result.trace, io);
  if (result.missing.length) io.stderr(`missing data: ${result.missing.map((m) => m.inputId).join(', ')} (collect-information Tasks created)\n`);

  if (args.write) {
    const report = await writeBack(client!, {
      mode: args.mode,
      result: output,
      seed: `${plan.url ?? plan.id}|${plan.version ?? ''}|Patient/${patient.id}|${now}`,
    });
    io.stderr(
      `wrote to ${report.server}: ${report.created.join(', ')}${report.existing.length ? `; already there from an earlier write of this apply: ${report.existing.join(', ')}` : ''}\n`,
    );
  }
  writeJson(io, output);
  const code = exitCodeOf(result.outcome, 'findings');
  if (code !== EXIT.ok) io.stderr(`the engine reported errors; see the OperationOutcome in the result\n`);
  return code;
}

export function registerApply(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  const command = program
    .command('apply')
    .description('apply a PlanDefinition to one patient ($apply); prints the CarePlan (r4) or Bundle (cpg)')
    .requiredOption('--plan <id|canonical>', 'PlanDefinition id, url or url|version')
    .option('--data <file|->', "the patient's data: Bundle, JSON array, NDJSON or one resource; - reads stdin")
    .option('--patient <id>', 'the subject Patient id (needed with --server, or when --data holds several patients)')
    .option('--now <datetime>', 'the evaluation time, ISO 8601 with offset (default: the current time, printed)')
    .option('--mode <mode>', 'r4 (CarePlan with contained requests) or cpg (Bundle, RequestGroup first)', 'r4')
    .option('--write', 'POST the result back to --server as one transaction')
    .option('--knowledge <paths...>', 'artifact folders/files instead of profiles/ and plandefinitions/');
  addServerOptions(command).action((options: ApplyArgs) => {
    done(runApply(options, io));
  });
}
