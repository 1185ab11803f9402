/**
 * The browser the console tests drive: Debian's chromium (or LIVECYCLE_CHROMIUM), headless,
 * through playwright-core, which downloads nothing. Absent, the tests are skipped with the one
 * command that installs it, except under CI (CI=true), where they fail instead.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.LIVECYCLE_CHROMIUM ?? '/usr/bin/chromium';
export const INSTALL_CHROMIUM = 'sudo apt-get install -y chromium';

/** Whether to run the browser tests; prints why not when skipping. Throws under CI without a browser. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `CI: no browser at ${CHROMIUM}; the console's browser tests never skip in CI (.ci/run installs it)`,
    );
  process.stdout.write(
    `console browser tests SKIPPED: no chromium at ${CHROMIUM}. Install one with: ${INSTALL_CHROMIUM}\n`,
  );
  return false;
}
