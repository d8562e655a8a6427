/**
 * The knowledge digest (CompiledKnowledge.digest) that the distributed batch compares between the
 * coordinator and its workers: it names exactly the artifacts - one ValueSet code more is another
 * digest - and not their files' formatting, so the npm package (minified JSON, profiles without
 * snapshot, generated at load) has the checkout's digest.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { compileKnowledge } from '../../src/knowledge/compiled-knowledge.ts';
import { DEFAULT_ARTIFACT_DIRS, loadKnowledge, readArtifacts } from '../../src/knowledge/load-artifacts.ts';
import { KNOWLEDGE } from '../support/cli.ts';
import { artifactsWithOneMoreCode } from './altered-knowledge.ts';

/** The artifact folders as the npm package ships them (scripts/pack.ts): minified JSON, no snapshot. */
function packagedCopy(): string[] {
  const root = mkdtempSync(join(tmpdir(), 'ip-digest-'));
  return DEFAULT_ARTIFACT_DIRS.map((dir) => {
    const target = join(root, basename(dir));
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const from = join(entry.parentPath, entry.name);
      const json = JSON.parse(readFileSync(from, 'utf8')) as Record<string, unknown>;
      if (json['resourceType'] === 'StructureDefinition') delete json['snapshot'];
      const to = join(target, relative(dir, from));
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, JSON.stringify(json));
    }
    return target;
  });
}

describe('CompiledKnowledge.digest', () => {
  it('is a sha256 of the artifacts, whatever their order or key order', () => {
    const artifacts = readArtifacts([KNOWLEDGE]).map((a) => a.resource);
    const digest = compileKnowledge(artifacts).digest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const reordered = [...artifacts].reverse().map((r) => Object.fromEntries(Object.entries(r).reverse()) as unknown as Resource);
    expect(compileKnowledge(reordered).digest).toBe(digest);
    expect(compileKnowledge(artifacts, { fastPath: false }).digest).toBe(digest);
  });

  it('changes with one ValueSet code more (same canonicals and versions)', () => {
    const plain = compileKnowledge(readArtifacts([KNOWLEDGE]).map((a) => a.resource));
    const altered = compileKnowledge(artifactsWithOneMoreCode([KNOWLEDGE]));
    expect(
      altered
        .all()
        .map((r) => `${r.resourceType}|${r.url}|${r.version}`)
        .sort(),
    ).toEqual(
      plain
        .all()
        .map((r) => `${r.resourceType}|${r.url}|${r.version}`)
        .sort(),
    );
    expect(altered.digest).not.toBe(plain.digest);
  });

  it('is the same for the npm package form of the artifacts (minified JSON, profiles without snapshot)', () => {
    const checkout = loadKnowledge(DEFAULT_ARTIFACT_DIRS);
    const packaged = loadKnowledge(packagedCopy());
    expect(packaged.all()).toHaveLength(checkout.all().length);
    expect(packaged.digest).toBe(checkout.digest);
  });
});
