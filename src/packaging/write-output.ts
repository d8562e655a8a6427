/**
 * Writes output files atomically: everything goes to a temporary sibling first and is renamed into
 * place at the end, so a failure never leaves a half-written file or folder behind.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TarFile } from './tar.ts';

function tempSibling(target: string): string {
  return join(dirname(target), `.${target.split('/').pop()}.tmp-${randomBytes(4).toString('hex')}`);
}

export function writeFileAtomic(target: string, content: Buffer | string): void {
  mkdirSync(dirname(target), { recursive: true });
  const temp = tempSibling(target);
  try {
    writeFileSync(temp, content);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Writes `files` under a fresh folder `target` (replacing an existing one only on success). */
export function writeFolderAtomic(target: string, files: readonly TarFile[]): void {
  mkdirSync(dirname(target), { recursive: true });
  const temp = tempSibling(target);
  try {
    for (const f of files) {
      const path = join(temp, ...f.name.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
    const old = `${temp}.old`;
    let replaced = false;
    try {
      renameSync(target, old);
      replaced = true;
    } catch {
      // No previous folder.
    }
    renameSync(temp, target);
    if (replaced) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}
