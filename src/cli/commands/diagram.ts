/**
 * `diagram --plan <canonical|id> --format svg|mermaid [--out file]`: draws a PlanDefinition (see
 * src/diagram/). Without --out the drawing itself goes to stdout (not JSON: it is the product, as
 * a picture is); with --out it is written to the file and stdout gets the usual JSON outcome.
 * Failures are OperationOutcomes through exitCodeOf like every command.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { renderPlanDiagram, findPlan } from '../../diagram/index.ts';
import { issue, outcome, outcomeError } from '../../errors/operation-outcome.ts';
import { loadKnowledge } from '../../knowledge/load-artifacts.ts';
import { EXIT, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { parseOptions } from '../options.ts';

const DiagramArgs = z.object({
  plan: z.string().min(1),
  format: z.enum(['svg', 'mermaid']).default('svg'),
  out: z.string().min(1).optional(),
  knowledge: z.array(z.string().min(1)).optional(),
});

async function diagram(raw: Record<string, unknown>, io: CliIo): Promise<ExitCode> {
  const args = parseOptions(DiagramArgs, raw);
  const knowledge = loadKnowledge(args.knowledge);
  const plan = findPlan(knowledge, args.plan);
  const text = await renderPlanDiagram(plan, knowledge, args.format);
  if (!args.out) {
    io.stdout(text);
    return EXIT.ok;
  }
  try {
    writeFileSync(args.out, text);
  } catch (err) {
    throw outcomeError('not-found', `cannot write ${args.out}: ${(err as Error).message}`);
  }
  writeJson(io, outcome(issue('information', 'informational', `wrote the ${args.format} diagram of PlanDefinition/${plan.id ?? ''} to ${args.out}`)));
  return EXIT.ok;
}

export function registerDiagram(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  program
    .command('diagram')
    .description('draw a PlanDefinition: actions, conditions, gates, choices, timing and what it orders, as SVG (laid out by ELK) or Mermaid')
    .requiredOption('--plan <canonical|id>', "the PlanDefinition's canonical url[|version] or id")
    .option('--format <format>', 'svg or mermaid', 'svg')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--knowledge <paths...>', 'artifact folders or files (default: profiles/ and plandefinitions/)')
    .action((options: Record<string, unknown>) => {
      done(diagram(options, io));
    });
}
