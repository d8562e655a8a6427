/** `infertility-protocols/knowledge`: reading, compiling and linting the knowledge artifacts. */
export { compileKnowledge, type CompiledKnowledge, type CompileFinding } from '../knowledge/compiled-knowledge.ts';
export { DEFAULT_ARTIFACT_DIRS, loadKnowledge, readArtifacts, type LoadedArtifact } from '../knowledge/load-artifacts.ts';
export { lintArtifacts, type LintArtifact } from '../lint/index.ts';
