/**
 * Validation of FHIR resources against the R4 base definitions and the module's profiles.
 *
 * Which profiles apply to a resource:
 *  1. every meta.profile we know (an unknown one is a warning: the resource is still checked
 *     against the base definition);
 *  2. every module profile whose selector matches (its code; written into the generated profile,
 *     see profile-selector.ts), even without meta.profile,
 *     because the protocols read data by code, not by declared profile; `inferProfiles: false`
 *     turns this off;
 *  3. the caller's `profiles` of the resource's type.
 * Pure apart from loading the definitions once (R4 base lazily, our profiles from profiles/).
 */
import type { FhirPathAtom } from '@medplum/core';
import { OperationOutcomeError as MedplumOutcomeError, evalFhirPathTyped, parseFhirPath, toTypedValue, validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { join } from 'node:path';
import { z } from 'zod';
import { badRequest, issue, notFound, toOperationOutcome } from '../errors/operation-outcome.ts';
import { PROJECT_ROOT, readArtifacts } from '../knowledge/load-artifacts.ts';
import type { CompiledProfile } from './compiled-profile.ts';
import { compileProfile } from './compiled-profile.ts';
import { profileSelector } from './profile-selector.ts';
import { ensureR4BaseLoaded } from './r4-definitions.ts';

export const PROFILES_DIR = join(PROJECT_ROOT, 'profiles');

export interface ValidateOptions {
  /** Extra profiles to apply to every resource of their type (parsed once per object). */
  profiles?: StructureDefinition[];
  /** Apply module profiles by code to resources that do not declare them (default true). */
  inferProfiles?: boolean;
}

export interface ValidationResult {
  resource: Resource;
  outcome: OperationOutcome;
}

const ProfileFile = z.looseObject({
  resourceType: z.literal('StructureDefinition'),
  url: z.string().min(1),
  type: z.string().min(1),
  snapshot: z.object({ element: z.array(z.looseObject({ path: z.string() })).min(1) }),
});

interface ModuleProfile {
  compiled: CompiledProfile;
  appliesWhen?: FhirPathAtom;
}

let moduleProfiles: Map<string, ModuleProfile> | undefined;
const callerProfiles = new WeakMap<StructureDefinition, CompiledProfile>();

/** The module's profiles from profiles/, parsed once. */
function loadModuleProfiles(): Map<string, ModuleProfile> {
  if (moduleProfiles) return moduleProfiles;
  ensureR4BaseLoaded();
  const loaded = new Map<string, ModuleProfile>();
  for (const { file, resource } of readArtifacts([PROFILES_DIR])) {
    // Extension definitions (kind complex-type) are published for readers; resources are what we validate.
    if (resource.resourceType !== 'StructureDefinition' || resource.kind !== 'resource') continue;
    const parsed = ProfileFile.safeParse(resource);
    if (!parsed.success) throw badRequest(`${file}: not a StructureDefinition with url, type and snapshot (${parsed.error.message})`);
    const sd = resource;
    const selector = profileSelector(sd);
    const entry: ModuleProfile = { compiled: compileProfile(sd) };
    if (selector) entry.appliesWhen = parseFhirPath(selector);
    loaded.set(parsed.data.url, entry);
  }
  moduleProfiles = loaded;
  return loaded;
}

/** The module's resource profiles (StructureDefinitions loaded from profiles/). */
export function moduleProfileDefinitions(): StructureDefinition[] {
  return [...loadModuleProfiles().values()].map((p) => p.compiled.definition);
}

function compiledFor(sd: StructureDefinition): CompiledProfile {
  let compiled = callerProfiles.get(sd);
  if (!compiled) {
    compiled = compileProfile(sd);
    callerProfiles.set(sd, compiled);
  }
  return compiled;
}

const stripVersion = (canonical: string): string => canonical.split('|')[0] ?? canonical;

function applies(profile: ModuleProfile, resource: Resource): boolean {
  if (!profile.appliesWhen || profile.compiled.type !== resource.resourceType) return false;
  try {
    const result = evalFhirPathTyped(profile.appliesWhen, [toTypedValue(resource)]);
    return result.length === 1 && result[0]?.value === true;
  } catch {
    return false;
  }
}

function baseIssues(resource: Resource): OperationOutcomeIssue[] {
  try {
    return validateResource(resource);
  } catch (err) {
    if (err instanceof MedplumOutcomeError) return err.outcome.issue;
    return toOperationOutcome(err).issue;
  }
}

/** Names the profile in an issue, so a reader knows which definition a constraint came from. */
function fromProfile(found: OperationOutcomeIssue, url: string): OperationOutcomeIssue {
  return { ...found, diagnostics: found.diagnostics ? `Profile ${url}: ${found.diagnostics}` : `Profile ${url}` };
}

/** The same finding reported by the base and by a profile (whose snapshot repeats the base) counts once. */
function issueKey(i: OperationOutcomeIssue): string {
  return JSON.stringify([i.severity, i.code, i.details?.text, i.expression]);
}

function validateOne(resource: Resource, extra: CompiledProfile[], infer: boolean): OperationOutcome {
  const known = loadModuleProfiles();
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Set<string>();
  const add = (i: OperationOutcomeIssue): void => {
    const key = issueKey(i);
    if (seen.has(key)) return;
    seen.add(key);
    issues.push(i);
  };
  // Callers pass parsed JSON: check it is a resource at all before trusting its type.
  const candidate: unknown = resource;
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as { resourceType?: unknown }).resourceType !== 'string') {
    return { resourceType: 'OperationOutcome', issue: [issue('error', 'structure', 'Not a FHIR resource (no resourceType)')] };
  }

  baseIssues(resource).forEach(add);

  const applied = new Map<string, CompiledProfile>();
  (resource.meta?.profile ?? []).forEach((canonical, index) => {
    const url = stripVersion(canonical);
    const profile = known.get(url)?.compiled;
    if (profile) applied.set(url, profile);
    else add(issue('warning', 'not-supported', `Unknown profile ${canonical}: validated against the base R4 definition only`, [`${resource.resourceType}.meta.profile[${index}]`]));
  });
  if (infer) {
    for (const [url, profile] of known) if (!applied.has(url) && applies(profile, resource)) applied.set(url, profile.compiled);
  }
  for (const profile of extra) if (profile.type === resource.resourceType) applied.set(profile.url, profile);

  for (const [url, profile] of applied)
    profile.validate(resource).forEach((found) => {
      add(fromProfile(found, url));
    });

  const checked = ['R4 base', ...applied.keys()].join(', ');
  issues.push(issue('information', 'informational', `Validated against: ${checked}`));
  return { resourceType: 'OperationOutcome', issue: issues };
}

/**
 * Validates each resource against the R4 base definition and the profiles that apply to it (see
 * the module comment). Every outcome ends with an information issue listing what was checked.
 */
export function validateResources(resources: Resource[], options: ValidateOptions = {}): ValidationResult[] {
  const extra = (options.profiles ?? []).map(compiledFor);
  const infer = options.inferProfiles ?? true;
  return resources.map((resource) => ({ resource, outcome: validateOne(resource, extra, infer) }));
}

/** Validates a resource against one known profile (a module profile, by canonical url). */
export function validateResourceAgainst(resource: Resource, profileCanonical: string): OperationOutcome {
  const url = stripVersion(profileCanonical);
  const profile = loadModuleProfiles().get(url)?.compiled;
  if (!profile) throw notFound(`Unknown profile ${profileCanonical}`);
  const issues = profile.validate(resource);
  issues.push(issue('information', 'informational', `Validated against: ${url}`));
  return { resourceType: 'OperationOutcome', issue: issues };
}

/** True when an outcome has no error or fatal issue. */
export function isValid(outcome: OperationOutcome): boolean {
  return !outcome.issue.some((i) => i.severity === 'error' || i.severity === 'fatal');
}
