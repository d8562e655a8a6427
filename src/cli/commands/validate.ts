/**
 * `validate <files...|->`: validates resources (artifacts or patient data) offline against the R4
 * base definitions and the module's profiles. Output: a Bundle (collection) with one
 * OperationOutcome per resource; entry.fullUrl names the file and the resource.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { z } from 'zod';
import { parseResources } from '../../data/read-input.ts';
import { outcomeError } from '../../errors/operation-outcome.ts';
import { loadKnowledge } from '../../knowledge/load-artifacts.ts';
import { validateResources } from '../../validation/validate.ts';
import { EXIT, readTextArgument, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { parseOptions } from '../options.ts';

const ValidateArgs = z.object({
  files: z.array(z.string().min(1)).min(1, 'name at least one file, or - for stdin'),
  profile: z.array(z.string().min(1)).optional(),
});

function profilesFor(canonicals: string[] | undefined): StructureDefinition[] {
  if (!canonicals?.length) return [];
  const knowledge = loadKnowledge();
  return canonicals.map((c) => {
    const sd = knowledge.resolve<StructureDefinition>(c, 'StructureDefinition');
    if (!sd) throw outcomeError('not-found', `--profile ${c}: no such StructureDefinition in profiles/`);
    return sd;
  });
}

export async function runValidate(raw: { files: string[]; profile?: string[] }, io: CliIo): Promise<ExitCode> {
  const args = parseOptions(ValidateArgs, raw);
  const profiles = profilesFor(args.profile);
  const entries: NonNullable<Bundle['entry']> = [];
  let invalid = 0;
  let total = 0;
  for (const file of args.files) {
    const resources = parseResources(await readTextArgument(io, file), file === '-' ? 'stdin' : file);
    const base = file === '-' ? 'urn:stdin' : pathToFileURL(resolve(file)).href;
    validateResources(resources, { profiles }).forEach(({ resource, outcome: result }, i) => {
      total++;
      const failed = result.issue.some((x) => x.severity === 'error' || x.severity === 'fatal');
      if (failed) invalid++;
      const name = resource.id ? `${resource.resourceType}/${resource.id}` : `${resource.resourceType}[${i}]`;
      entries.push({ fullUrl: `${base}#${name}`, resource: result });
    });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', entry: entries };
  writeJson(io, bundle);
  io.stderr(`validate: ${total - invalid} of ${total} resource(s) valid\n`);
  return invalid > 0 ? EXIT.findings : EXIT.ok;
}

export function registerValidate(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  program
    .command('validate')
    .description('validate resources (artifacts or patient data: Bundle, array, NDJSON or one resource) against R4 and the module profiles, offline')
    .argument('<files...>', 'files to validate; - reads stdin')
    .option('--profile <canonicals...>', 'also validate against these module profiles')
    .action((files: string[], options: { profile?: string[] }) => {
      done(runValidate({ files, ...options }, io));
    });
}
