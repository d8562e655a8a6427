/**
 * The public API: the names each entry point exports are listed here, and docs/api.md (their types
 * and signatures, generated from the declarations) must be current. Removing or renaming an export
 * fails the first test; changing a type or signature fails the second until docs/api.md is
 * regenerated (`node scripts/build-api-docs.ts`), so a breaking change is a visible diff.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_DOC, publicApi, renderApiDocs } from '../../scripts/build-api-docs.ts';

describe('public API surface', () => {
  const api = publicApi();

  it('exports exactly these names per entry point', () => {
    expect(Object.fromEntries(api.map((e) => [e.subpath, e.names.map((n) => `${n.kind} ${n.name}`)]))).toEqual({
      'infertility-protocols': [
        'interface ActionTrace',
        'type Applicability',
        'function applyActivityDefinition',
        'interface ApplyContext',
        'interface ApplyOptions',
        'function applyPlanDefinition',
        'interface ApplyResult',
        'function buildPatientData',
        'class CompiledKnowledge',
        'interface CompileFinding',
        'function compileKnowledge',
        'interface ConditionTrace',
        'const DEFAULT_ARTIFACT_DIRS',
        'interface ExpressionEvaluator',
        'const INPUT_REQUIRED_EXTENSION',
        'interface LoadedArtifact',
        'function loadKnowledge',
        'interface MissingInput',
        'class OperationOutcomeError',
        'type OutputMode',
        'interface PatientData',
        'function readArtifacts',
        'function toOperationOutcome',
        'const TRACE_EXTENSION',
        'interface ValidateOptions',
        'function validateResources',
        'interface ValidationResult',
      ],
      'infertility-protocols/knowledge': [
        'class CompiledKnowledge',
        'interface CompileFinding',
        'function compileKnowledge',
        'const DEFAULT_ARTIFACT_DIRS',
        'interface LintArtifact',
        'function lintArtifacts',
        'interface LoadedArtifact',
        'function loadKnowledge',
        'function readArtifacts',
      ],
      'infertility-protocols/server': [
        'function buildServer',
        'interface CdsServer',
        'function closeOnSignals',
        'function parseServerConfig',
        'interface RunningServer',
        'type ServerConfig',
        'type ServerConfigInput',
        'function startServer',
      ],
      'infertility-protocols/cli': ['interface CliIo', 'const EXIT', 'type ExitCode', 'function exitCodeOf', 'function processIo', 'function runCli'],
    });
  });

  it('docs/api.md is generated from the current declarations (signatures and types included)', () => {
    expect(readFileSync(API_DOC, 'utf8')).toBe(renderApiDocs());
  });

  it('the exports map of package.json points at these entry points', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string; default: string } | string> };
    for (const { subpath } of api) {
      const key = subpath === 'infertility-protocols' ? '.' : `./${subpath.split('/')[1]!}`;
      const target = pkg.exports[key];
      expect(target, key).toBeTypeOf('object');
      const file = subpath === 'infertility-protocols' ? 'index' : subpath.split('/')[1]!;
      expect(target).toEqual({ types: `./dist/api/${file}.d.ts`, default: `./dist/api/${file}.js` });
    }
  });
});
