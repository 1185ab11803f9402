import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Tests that run the local runtime invoke the built bundles, exactly as FC would: build them once. */
export default function setup(): void {
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
}
