/**
 * The safety switch's text, as the edges read it from FHIRPATH_FAST_PATH: `0`, `false` or `off`
 * evaluate with fhirpath.js everywhere; anything else (or unset) uses the fast path. Only src/cli,
 * src/server and the batch worker read the environment; this turns its text into the option.
 */
export function fastPathOption(text: string | undefined): { fastPath: boolean } {
  return { fastPath: !['0', 'false', 'off'].includes((text ?? '').trim().toLowerCase()) };
}
