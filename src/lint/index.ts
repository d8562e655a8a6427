export { lintArtifacts, type LintArtifact } from './lint-artifacts.ts';
export { checkFhirPath, type ExpressionProblem, type ExpressionScope } from './fhirpath-check.ts';
export { checkSimplePath, parseSimplePath } from './simple-path.ts';
