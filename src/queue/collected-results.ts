/**
 * Job results the coordinator has taken out of Redis, on its own disk: per job its sorted parts
 * (`<job>.out`, `.fail`, `.bad`, each only when not empty) and, written last by a rename, a marker
 * `<job>.done` with the job's patient count. A job counts as collected only with its marker, so a
 * coordinator killed while writing leaves a job that is simply collected again.
 *
 * The folder is kept across a coordinator's death (it lives in --out), which is what lets
 * `--resume` finish a run whose results already left Redis.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LineFileWriter } from '../batch/line-writer.ts';
import type { JobResult } from './run-meta.ts';

const Marker = z.object({ patients: z.number().int().nonnegative() });

export type PartKind = 'out' | 'fail' | 'bad';

export class CollectedResults {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  private path(job: string, suffix: string): string {
    return join(this.dir, `${job}.${suffix}`);
  }

  /** Writes the job's parts, then its marker. */
  write(job: string, result: JobResult): void {
    const parts: [PartKind, string[]][] = [
      ['out', result.output],
      ['fail', result.failures],
      ['bad', result.badLines],
    ];
    for (const [kind, lines] of parts) {
      if (lines.length === 0) continue;
      const writer = new LineFileWriter(this.path(job, kind));
      for (const line of lines) writer.write(line);
      writer.close();
    }
    const marker = new LineFileWriter(this.path(job, 'done.tmp'));
    marker.write(JSON.stringify({ patients: result.patients }));
    marker.close();
    renameSync(this.path(job, 'done.tmp'), this.path(job, 'done'));
  }

  has(job: string): boolean {
    return existsSync(this.path(job, 'done'));
  }

  patients(job: string): number {
    return Marker.parse(JSON.parse(readFileSync(this.path(job, 'done'), 'utf8'))).patients;
  }

  /** The job's part of this kind, when it has one. */
  part(job: string, kind: PartKind): string | undefined {
    const path = this.path(job, kind);
    return existsSync(path) ? path : undefined;
  }
}
