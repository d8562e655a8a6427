/**
 * Writes the example patients (examples/*.json Bundles) as a FHIR Bulk Data export:
 * examples/bulk/<ResourceType>.ndjson, one resource per line, so `batch` has a real input to run on:
 *   npx node scripts/examples-to-bulk.ts && npx infertility-protocols batch --in examples/bulk --out /tmp/results
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

export function bulkExportOfExamples(): Map<string, string> {
  const dir = join(PROJECT_ROOT, 'examples');
  const byType = new Map<string, string[]>();
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const bundle = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Bundle;
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      if (!resource) continue;
      const lines = byType.get(resource.resourceType) ?? [];
      lines.push(JSON.stringify(resource));
      byType.set(resource.resourceType, lines);
    }
  }
  return new Map([...byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, lines]) => [`${type}.ndjson`, `${lines.join('\n')}\n`]));
}

if (import.meta.main) {
  const out = join(PROJECT_ROOT, 'examples', 'bulk');
  mkdirSync(out, { recursive: true });
  for (const [file, text] of bulkExportOfExamples()) writeFileSync(join(out, file), text);
  console.log(`wrote ${out}`);
}
