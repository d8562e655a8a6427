/** `infertility-protocols/cli`: the whole CLI as a function of argv and I/O (what the bin runs). */
export { runCli } from '../cli/main.ts';
export { processIo, type CliIo } from '../cli/io.ts';
export { EXIT, exitCodeOf, type ExitCode } from '../errors/exit-code.ts';
