import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let built = false;

/** Builds dist/ once per test process; tests of the local runtime invoke the bundles as FC would. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs'), '--quiet'], {
    stdio: 'inherit',
  });
  built = true;
}
