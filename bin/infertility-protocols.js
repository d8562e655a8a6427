#!/usr/bin/env node
// The CLI. Plain JavaScript that any Node can parse, so that an unsupported Node gets one line
// naming the Node it needs instead of a stack trace from a dependency.
//
// Installed package: runs the built JavaScript (dist/api/cli.js, the bundle of src/cli/main.ts with
// everything it imports); the package ships no src/.
// Source checkout: runs src/cli/main.ts directly (Node strips the types), so a stale dist/ is never
// what a developer or a test runs.
import { existsSync } from 'node:fs';

// package.json "engines": "^22.18.0 || >=24.2.0" (@medplum/core's range; src/ also needs type stripping).
// tests/package/consumer.test.ts checks that the two say the same.
const SUPPORTED_NODE = '^22.18.0 || >=24.2.0';

function supported(version) {
  const [major, minor] = version.split('.').map(Number);
  return (major === 22 && minor >= 18) || (major === 24 && minor >= 2) || major > 24;
}

if (!supported(process.versions.node)) {
  process.stderr.write(`infertility-protocols needs Node ${SUPPORTED_NODE}; this is Node ${process.versions.node}.\n`);
  // EXIT.environment (src/errors/exit-code.ts): the machine, not the invocation, must change.
  process.exitCode = 3;
} else {
  const source = new URL('../src/cli/main.ts', import.meta.url);
  await import(existsSync(source) ? source.href : new URL('../dist/api/cli.js', import.meta.url).href);
}
