/** Reads and parses (zod) every clinical test case file under tests/protocols/<plan id>/. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../src/knowledge/load-artifacts.ts';
import { CaseFileSchema, type CaseFile } from './schema.ts';

export const CASES_DIR = join(PROJECT_ROOT, 'tests', 'protocols');

export interface LoadedCase {
  plan: string;
  name: string;
  file: string;
  spec: CaseFile;
}

export function loadCases(): LoadedCase[] {
  const found: LoadedCase[] = [];
  for (const plan of readdirSync(CASES_DIR).sort()) {
    const dir = join(CASES_DIR, plan);
    if (plan === 'cases' || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const file = join(dir, name);
      const spec = CaseFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      found.push({ plan, name: name.replace(/\.json$/, ''), file, spec });
    }
  }
  return found;
}
