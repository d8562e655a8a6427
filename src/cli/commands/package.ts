/** `package [--out file.tgz|dir]`: the artifacts as a FHIR NPM package (see src/packaging/). */
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_ARTIFACT_DIRS, projectVersion } from '../../knowledge/load-artifacts.ts';
import { buildFhirPackage } from '../../packaging/fhir-package.ts';
import { tgz } from '../../packaging/tar.ts';
import { writeFileAtomic, writeFolderAtomic } from '../../packaging/write-output.ts';
import { EXIT, writeJson, type CliIo, type ExitCode } from '../io.ts';
import { parseOptions } from '../options.ts';
import { readArtifactPaths } from './lint.ts';

const PackageArgs = z.object({
  out: z.string().min(1).default('infertility-protocols.tgz'),
  name: z.string().min(1).default('org.infertility-protocols.r4'),
  packageVersion: z.string().min(1).optional(),
  canonical: z.url().optional(),
  from: z.array(z.string().min(1)).optional(),
});
export type PackageArgs = z.input<typeof PackageArgs>;

function buildPackage(raw: PackageArgs, io: CliIo): ExitCode {
  const args = parseOptions(PackageArgs, raw);
  const artifacts = readArtifactPaths(args.from ?? DEFAULT_ARTIFACT_DIRS);
  const files = buildFhirPackage(artifacts, {
    name: args.name,
    version: args.packageVersion ?? projectVersion(),
    ...(args.canonical ? { canonical: args.canonical } : {}),
  });
  const asArchive = /\.(tgz|tar\.gz)$/.test(args.out);
  if (asArchive) writeFileAtomic(args.out, tgz(files));
  else writeFolderAtomic(args.out, files);
  writeJson(io, {
    out: args.out,
    format: asArchive ? 'tgz' : 'folder',
    name: args.name,
    version: args.packageVersion ?? projectVersion(),
    files: files.map((f) => f.name),
  });
  io.stderr(`package: ${files.length - 2} resource(s) written to ${args.out}\n`);
  return EXIT.ok;
}

/** The command's run (synchronous work; a throw becomes the promise's rejection). */
export function runPackage(raw: PackageArgs, io: CliIo): Promise<ExitCode> {
  return new Promise((resolve) => {
    resolve(buildPackage(raw, io));
  });
}

export function registerPackage(program: Command, io: CliIo, done: (code: Promise<ExitCode>) => void): void {
  program
    .command('package')
    .description('build a FHIR NPM package (package/package.json, package/.index.json, resources) as a .tgz or a folder')
    .option('--out <file.tgz|dir>', 'a path ending in .tgz/.tar.gz writes an archive, anything else a folder', 'infertility-protocols.tgz')
    .option('--name <name>', 'package name', 'org.infertility-protocols.r4')
    .option('--package-version <semver>', 'package version (default: the project version)')
    .option('--canonical <url>', 'package canonical (default: the common base of the artifact urls)')
    .option('--from <paths...>', 'artifact folders/files (default: profiles/ and plandefinitions/)')
    .action((options: PackageArgs) => {
      done(runPackage(options, io));
    });
}
