/**
 * `npm run screenshots`: regenerates docs/screenshots/*.png (shown in the README) by running the
 * browser tests of the web view with SCREENSHOT_DIR pointed there: the same real server, fixed
 * clock and Debian chromium as `npm test`, so the pictures are of what the tests assert.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/knowledge/load-artifacts.ts';

const result = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'vitest'), ['run', 'tests/web/human-view.test.ts'], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
  env: { ...process.env, TZ: 'UTC', SCREENSHOT_DIR: join(PROJECT_ROOT, 'docs', 'screenshots') },
});
process.exitCode = result.status ?? 1;
