/** Appends lines to a file through one fixed-size buffer: one write per ~1 MiB, whatever the line count. */
import { closeSync, openSync, writeSync } from 'node:fs';

const FLUSH_CHARS = 1 << 20;

export class LineFileWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  lines = 0;
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(line: string): void {
    this.parts.push(line, '\n');
    this.size += line.length + 1;
    this.lines++;
    if (this.size >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.size === 0) return;
    this.bytes += writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}
