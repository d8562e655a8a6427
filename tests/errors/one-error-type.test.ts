/**
 * One error type (issue #13): every layer fails with OperationOutcomeError, and the status or exit
 * code is chosen in exactly two places (src/errors/http-status.ts, src/errors/exit-code.ts). The
 * source is read as text because the rules are about where code is written, not what it does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/knowledge/load-artifacts.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const files = sourceFiles(join(PROJECT_ROOT, 'src')).map((file) => ({ name: relative(PROJECT_ROOT, file), text: readFileSync(file, 'utf8') }));
const where = (pattern: RegExp) => files.filter((f) => pattern.test(f.text)).map((f) => f.name);

describe('one error type', () => {
  it('OperationOutcomeError is not re-exported or wrapped under another name', () => {
    expect(where(/export \{[^}]*\bOperationOutcomeError as \w+/)).toEqual([]);
    expect(where(/export (?:const|class|type|function) \w*OutcomeError\b/)).toEqual(['src/errors/operation-outcome.ts']);
  });

  it('no thrower picks an HTTP status: only the protocol-prescribed 412 helper sets one', () => {
    expect(where(/new OperationOutcomeError\([^;]*,\s*\{\s*status\b/)).toEqual(['src/errors/operation-outcome.ts']);
  });

  it('no numeric status or exit code is written outside the two mappings (and the process exit on shutdown)', () => {
    const literal = /\.code\(\d{3}\)|statusCode\s*=\s*\d|exitCode\s*=\s*\d|status\(\d{3}\)/;
    expect(where(literal)).toEqual([]);
  });
});
