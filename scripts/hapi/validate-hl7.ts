/**
 * `npm run validate:hl7`: the HL7 validator (HAPI FhirInstanceValidator, R4 core definitions
 * offline, our profiles/code systems/value sets loaded beside them) over every artifact
 * (plandefinitions/, profiles/), every example Bundle (examples/) and every CarePlan/Bundle the
 * engine produces for the clinical test cases. Exits 1 on any error; prints every warning kind
 * with a count (docs/conformance.md says why each is accepted) and what could not be checked
 * offline (unknown profiles, code systems such as HL7 CPG's).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { loadKnowledge, PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';
import { writeEngineOutputs } from './engine-outputs.ts';

const HAPI_DIR = join(PROJECT_ROOT, 'interop', 'hapi');

const KnownFindings = z.object({
  findings: z.array(z.object({ id: z.string(), message: z.string(), files: z.string(), status: z.string(), reason: z.string() })),
});
const knownFindings = KnownFindings.parse(JSON.parse(readFileSync(join(HAPI_DIR, 'known-findings.json'), 'utf8'))).findings;

const ValidatedFile = z.object({
  file: z.string(),
  issues: z.array(z.object({ severity: z.string(), location: z.string().nullable(), messageId: z.string().nullable(), message: z.string() })),
});
type ValidatedFile = z.infer<typeof ValidatedFile>;

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json') && !join(e.parentPath, e.name).includes('/_authoring/'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function runValidator(knowledgeList: string, validateList: string): ValidatedFile[] {
  const build = spawnSync(join(PROJECT_ROOT, 'scripts', 'hapi', 'build.sh'), { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building interop/hapi failed (exit ${String(build.status)})`);
  const classpath = `${join(HAPI_DIR, 'target', 'classes')}:${readFileSync(join(HAPI_DIR, 'target', 'classpath.txt'), 'utf8').trim()}`;
  const run = spawnSync('java', ['-Xmx1g', '-cp', classpath, 'org.infertilityprotocols.hapi.ValidateCli', '--knowledge', knowledgeList, '--validate', validateList], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.status !== 0) throw new Error(`the validator failed (exit ${String(run.status)}):\n${run.stderr.slice(-4000)}`);
  return run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => ValidatedFile.parse(JSON.parse(l)));
}

/** A warning's kind: its message id, or its text with the specifics (quoted values, numbers) removed. */
function kindOf(issue: ValidatedFile['issues'][number]): string {
  // One kind per code system for an unknown code system, not one per code.
  const text = issue.message
    .replace(/ for '[^']*'$/, '')
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"');
  return `${issue.messageId ?? '-'}: ${text.slice(0, 160)}`;
}

const workDir = mkdtempSync(join(tmpdir(), 'validate-hl7-'));
try {
  const artifacts = [...jsonFilesUnder(join(PROJECT_ROOT, 'profiles')), ...jsonFilesUnder(join(PROJECT_ROOT, 'plandefinitions'))];
  const examples = readdirSync(join(PROJECT_ROOT, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(PROJECT_ROOT, 'examples', f))
    // examples/ also holds the CDS service's config files (not FHIR resources): only Bundles are validated.
    .filter((file) => (JSON.parse(readFileSync(file, 'utf8')) as { resourceType?: unknown }).resourceType === 'Bundle');
  const outputs = writeEngineOutputs(workDir, loadKnowledge());
  const knowledgeList = join(workDir, 'knowledge.txt');
  const validateList = join(workDir, 'validate.txt');
  writeFileSync(knowledgeList, artifacts.join('\n'));
  writeFileSync(validateList, [...artifacts, ...examples, ...outputs.files].join('\n'));

  const validated = runValidator(knowledgeList, validateList);
  const name = (file: string) => (file.startsWith(workDir) ? `engine-output/${relative(workDir, file)}` : relative(PROJECT_ROOT, file));
  // HAPI reports a claimed profile it cannot load (the HL7 CPG profiles are not available offline) as an
  // error even with errorForUnknownProfiles off: it is listed under "not checked offline" instead.
  const offlineProfile = (message: string) => /Failed to retrieve profile with url=(http:\/\/hl7\.org\/fhir\/uv\/cpg\/\S+)/.exec(message)?.[1];
  const errors = validated.flatMap((v) =>
    v.issues.filter((i) => (i.severity === 'error' || i.severity === 'fatal') && !offlineProfile(i.message)).map((i) => ({ file: name(v.file), ...i })),
  );
  const warnings = new Map<string, { count: number; example: string }>();
  for (const v of validated) {
    for (const issue of v.issues.filter((i) => i.severity === 'warning')) {
      const kind = kindOf(issue);
      const seen = warnings.get(kind);
      if (seen) seen.count += 1;
      else warnings.set(kind, { count: 1, example: `${name(v.file)} ${issue.location ?? ''}: ${issue.message}` });
    }
  }
  // What the validator could not check offline, named rather than passed over.
  const unchecked = new Map<string, number>();
  for (const v of validated) {
    for (const issue of v.issues) {
      const url =
        /CodeSystem is unknown and can't be validated: (\S+)/.exec(issue.message)?.[1] ??
        offlineProfile(issue.message) ??
        /[Pp]rofile (?:reference )?'(https?:\/\/[^']+)'.*(?:not|unknown)/.exec(issue.message)?.[1];
      if (url) unchecked.set(url, (unchecked.get(url) ?? 0) + 1);
    }
  }

  console.log(
    `validated ${String(validated.length)} files: ${String(artifacts.length)} artifacts, ${String(examples.length)} example Bundles, ` +
      `${String(outputs.files.length)} distinct engine outputs (of ${String(outputs.results)} case x protocol x mode results)`,
  );
  console.log(`\nwarnings by kind (${String([...warnings.values()].reduce((n, w) => n + w.count, 0))}):`);
  for (const [kind, { count, example }] of [...warnings].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`  ${String(count).padStart(6)}  ${kind}\n          e.g. ${example.slice(0, 300)}`);
  }
  console.log('\nnot checked offline (definition not available to the validator):');
  for (const [url, count] of [...unchecked].sort()) console.log(`  ${url}  (${String(count)} issues)`);
  console.log(
    '  HL7 CPG profiles (hl7.fhir.uv.cpg): not in the offline validator; the artifacts that claim them (listed above) and CPG-mode outputs are checked against base R4 and our profiles only',
  );
  const knownOf = (e: (typeof errors)[number]) => knownFindings.find((k) => e.message.includes(k.message) && e.file.startsWith(k.files));
  const known = errors.filter((e) => knownOf(e));
  const unknown = errors.filter((e) => !knownOf(e));
  console.log('\nknown errors (interop/hapi/known-findings.json, docs/conformance.md):');
  for (const k of knownFindings) {
    const hits = known.filter((e) => knownOf(e) === k);
    console.log(`  ${String(hits.length).padStart(4)}  ${k.id} [${k.status}]: ${k.reason}`);
    for (const e of hits) console.log(`          ${e.file} ${e.location ?? ''}`);
  }
  for (const e of unknown.slice(0, 200)) console.log(`ERROR ${e.file} ${e.location ?? ''}: ${e.message}`);
  const warningCount = [...warnings.values()].reduce((n, w) => n + w.count, 0);
  console.log(`\n${String(unknown.length)} errors (+${String(known.length)} known), ${String(warningCount)} warnings`);
  process.exitCode = unknown.length > 0 ? 1 : 0;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
