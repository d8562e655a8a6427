/** Failures of a batch run, one OperationOutcome per NDJSON line, pointing at file:line or patient. */
import type { OperationOutcome } from '@medplum/fhirtypes';

export function lineFailure(location: string, code: 'structure' | 'required' | 'not-found' | 'processing' | 'exception' | 'too-long', message: string): string {
  const result: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics: `${location}: ${message}`, expression: [location] }],
  };
  return JSON.stringify(result);
}
