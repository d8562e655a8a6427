/**
 * Entry point of the `infertility-protocols` CLI (bin/infertility-protocols.js imports this file).
 * `runCli` is the whole program as a function of argv and I/O, so tests run it in-process.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeOf, type ExitCode } from '../errors/exit-code.ts';
import { badRequest, toOperationOutcome } from '../errors/operation-outcome.ts';
import { registerApply } from './commands/apply.ts';
import { registerBatch } from './commands/batch.ts';
import { registerDiagram } from './commands/diagram.ts';
import { registerLint } from './commands/lint.ts';
import { registerLoad } from './commands/load.ts';
import { registerPackage } from './commands/package.ts';
import { registerServe } from './commands/serve.ts';
import { registerWorker } from './commands/worker.ts';
import { registerValidate } from './commands/validate.ts';
import { processIo, writeJson, type CliIo } from './io.ts';
import { projectVersion } from '../knowledge/load-artifacts.ts';

function failure(io: CliIo, err: unknown): ExitCode {
  const result = toOperationOutcome(err);
  writeJson(io, result);
  const first = result.issue.find((i) => i.severity === 'error' || i.severity === 'fatal');
  io.stderr(`error: ${first?.diagnostics ?? first?.code ?? 'failed'}\n`);
  return exitCodeOf(result, 'failure');
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let running: Promise<ExitCode> | undefined;
  const done = (code: Promise<ExitCode>) => {
    running = code;
  };
  const program = new Command('infertility-protocols')
    .description('FHIR R4 infertility work-up protocols: lint, validate, apply, load into a FHIR server, batch over Bulk Data, package')
    .version(projectVersion())
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => {
        io.stdout(text);
      },
      // Commander's own error text is replaced by an OperationOutcome below; keep only the hint.
      writeErr: (text) => {
        if (!text.startsWith('error:')) io.stderr(text);
      },
    })
    .exitOverride();
  for (const register of [registerLint, registerValidate, registerApply, registerLoad, registerBatch, registerPackage, registerServe, registerDiagram, registerWorker]) {
    register(program, io, done);
  }
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (!running) {
      // No command given: show the help, which is a usage error when nothing was asked.
      io.stderr(program.helpInformation());
      return failure(io, badRequest('no command given'));
    }
    return await running;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // Help shown because nothing usable was asked (e.g. no command) is a usage error.
      if (err.code === 'commander.help') {
        return err.exitCode === 0 ? EXIT.ok : failure(io, badRequest('no command given'));
      }
      const message = err.message.replace(/^error: /, '');
      return failure(io, badRequest(message));
    }
    return failure(io, err);
  }
}

const invokedDirectly = process.argv[1] !== undefined && /infertility-protocols(\.js)?$|cli\/main\.ts$/.test(process.argv[1]);
if (invokedDirectly) {
  runCli(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT.environment;
    },
  );
}
