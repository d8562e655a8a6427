/**
 * Where a batch run writes: a run folder beside `--out` (same file system), holding the work files
 * (patient data!) and the outputs; committed with one rename onto `--out`, so `--out` holds either
 * the previous complete result or the new one, never a mix or a half-written file.
 *
 * Every way out removes the run folder: success (the work files go before the rename), an error,
 * process.exit, SIGINT and SIGTERM. A kill -9 cannot be caught: the folder's name carries the pid,
 * and the next run that writes to the same `--out` sweeps the folders of processes that are gone.
 *
 * `--out` is refused when it is `--in`, inside it, or contains it (the run would read its own output
 * or replace its own input), and when it holds anything but a previous run's outputs (replacing it
 * would delete someone's files).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { outcomeError } from '../errors/operation-outcome.ts';

/** What a run leaves in `--out`; `.batch-work-*` and `*.tmp-<pid>` are what earlier versions left there. */
const OUTPUT_NAMES: ReadonlySet<string> = new Set(['CarePlan.ndjson', 'Bundle.ndjson', 'OperationOutcome.ndjson', 'failed-shards']);
const LEFTOVER = /^\.batch-work-|\.tmp-\d+$/;

export interface RunFolder {
  /** Where the outputs are written until the commit. */
  readonly path: string;
  /** The work files: removed before the commit, with the folder on any failure. */
  readonly workDir: string;
  /** One rename onto `--out` (a previous result there is replaced). */
  commit(): void;
  /** Removes the run folder (nothing is committed). Idempotent. */
  discard(): void;
}

/** The path with its existing part resolved through symbolic links, so `a/../b` and links compare as the folder they are. */
function realPath(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return join(realpathSync(existing), relative(existing, absolute));
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : `${parent}${sep}`);

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes the run folders (and older versions' leftovers) of runs to `out` whose process is gone. */
function sweep(parent: string, out: string, name: string): string[] {
  const swept: string[] = [];
  const ours = new RegExp(`^\\.batch-(?:run|old)-${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-`);
  for (const entry of readdirSync(parent)) {
    const pid = ours.exec(entry)?.[1];
    if (pid !== undefined && processIsGone(Number(pid))) {
      rmSync(join(parent, entry), { recursive: true, force: true });
      swept.push(join(parent, entry));
    }
  }
  if (existsSync(out)) {
    for (const entry of readdirSync(out)) {
      const pid = /\.tmp-(\d+)$/.exec(entry)?.[1];
      if (entry.startsWith('.batch-work-') || (pid !== undefined && processIsGone(Number(pid)))) {
        rmSync(join(out, entry), { recursive: true, force: true });
        swept.push(join(out, entry));
      }
    }
  }
  return swept;
}

function checkFolders(inDir: string, out: string): void {
  const input = realPath(inDir);
  if (inside(out, input)) {
    throw outcomeError('invalid', `--out ${out} is --in or inside it: the run would read its own output; write the results elsewhere`, ['--out']);
  }
  if (inside(input, out)) throw outcomeError('invalid', `--in ${input} is inside --out ${out}: committing the results would replace the input`, ['--out']);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw outcomeError('invalid', `--out ${out} is a file, not a folder`, ['--out']);
  const foreign = readdirSync(out).filter((e) => !OUTPUT_NAMES.has(e) && !LEFTOVER.test(e));
  if (foreign.length > 0) {
    throw outcomeError(
      'conflict',
      `--out ${out} holds files that are not batch outputs (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); the results replace the folder as a whole, so give an empty or new folder`,
      ['--out'],
    );
  }
}

export function openRunFolder(inDir: string, outDir: string, onSwept?: (paths: string[]) => void): RunFolder {
  const out = realPath(outDir);
  checkFolders(inDir, out);
  const parent = dirname(out);
  const name = basename(out);
  mkdirSync(parent, { recursive: true });
  const swept = sweep(parent, out, name);
  if (swept.length) onSwept?.(swept);
  let open = true;
  let path = '';
  const detach = () => {
    process.removeListener('exit', remove);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  function remove(): void {
    detach();
    if (!open || !path) return;
    open = false;
    // Renamed first: workers still writing then find no folder to create files in, so the removal
    // does not race them (a rmdir would fail on a file created meanwhile). Whatever a failure here
    // leaves keeps the run's name and pid, and the next run sweeps it.
    let doomed = `${path}.removing`;
    try {
      renameSync(path, doomed);
    } catch {
      doomed = path;
    }
    try {
      rmSync(doomed, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Swept by the next run.
    }
  }
  // On a signal: remove the patient data, then die of the same signal (exit 130/143 as before).
  function onSignal(signal: NodeJS.Signals): void {
    remove();
    process.kill(process.pid, signal);
  }
  // Listening before the folder exists: no moment in which a signal would leave it behind.
  process.on('exit', remove);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  path = mkdtempSync(join(parent, `.batch-run-${name}-${process.pid}-`));
  const workDir = join(path, '.work');
  mkdirSync(workDir);

  return {
    path,
    workDir,
    commit() {
      rmSync(workDir, { recursive: true, force: true });
      if (existsSync(out) && readdirSync(out).length > 0) {
        // A previous result: moved aside, replaced, then removed. In between `--out` is absent, never mixed.
        const old = mkdtempSync(join(parent, `.batch-old-${name}-${process.pid}-`));
        renameSync(out, join(old, 'previous'));
        renameSync(path, out);
        rmSync(old, { recursive: true, force: true });
      } else {
        renameSync(path, out);
      }
      open = false;
      detach();
    },
    discard: remove,
  };
}
