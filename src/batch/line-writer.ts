/** Appends lines to a file through one fixed 1 MiB buffer: one write per MiB, whatever the line count. */
import { ByteAppender } from './byte-appender.ts';

export class LineFileWriter {
  private readonly out: ByteAppender;
  lines = 0;

  constructor(path: string) {
    this.out = new ByteAppender(path, 1 << 20);
    this.out.open();
  }

  write(line: string): void {
    this.out.text(line);
    this.out.text('\n');
    this.lines++;
  }

  close(): void {
    this.out.close();
  }
}
