/**
 * A lint finding and how findings become the OperationOutcome: errors first, then by file, path
 * (numeric-aware, so action[2] sorts before action[10]) and message, each issue's `expression`
 * being `<file>#<path in the resource>`.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../errors/operation-outcome.ts';

export type Severity = 'error' | 'warning' | 'information';
export type Code = OperationOutcomeIssue['code'];

export interface Finding {
  severity: Severity;
  code: Code;
  file: string;
  path: string;
  message: string;
}

/** Where a check reports what it finds. */
export interface FindingSink {
  add(severity: Severity, code: Code, file: string, path: string, message: string): void;
}

export function toIssue(f: Finding): OperationOutcomeIssue {
  return issue(f.severity, f.code, `${f.file}: ${f.path}: ${f.message}`, [`${f.file}#${f.path}`]);
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, information: 2 };

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.file.localeCompare(b.file) ||
      a.path.localeCompare(b.path, 'en', { numeric: true }) ||
      a.message.localeCompare(b.message),
  );
}
