/**
 * The fenced shell blocks of a markdown file, with the marker that may precede one:
 * `<!-- readme-test: skip: <why> -->` on the line before the fence keeps a block out of the run
 * (the reason is listed by the test, so every block that does not run is said out loud).
 */
export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  /** Why the block is not run, when it is marked so. */
  skip?: string;
}

const FENCE = /^```(sh|bash|shell|console)\s*$/;
const MARKER = /^<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->\s*$/;

export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    const marker = MARKER.exec(lines[start - 1] ?? '');
    blocks.push({ file, line: start + 1, text: body.join('\n'), ...(marker ? { skip: marker[1]! } : {}) });
  }
  return blocks;
}
