/**
 * Which ffmpeg binary to use: `ffmpeg` on PATH, else the one the optional dependency
 * @ffmpeg-installer/ffmpeg brings with `npm ci`, else none (the RTMP server still remuxes
 * in-process; only snapshots need ffmpeg). ffprobe only ever comes from PATH: no registry
 * package is used for it.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Binary {
  path: string;
  /** Where it came from, for messages: 'PATH' or the npm package name. */
  source: string;
}

const cache = new Map<string, Binary | undefined>();

function runs(path: string): boolean {
  const result = spawnSync(path, ['-version'], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

/** Found once per process: spawning `-version` costs a few ms. */
export function findFfmpeg(): Binary | undefined {
  if (cache.has('ffmpeg')) return cache.get('ffmpeg');
  let found: Binary | undefined = runs('ffmpeg') ? { path: 'ffmpeg', source: 'PATH' } : undefined;
  if (!found) {
    try {
      // createRequire keeps the optional package out of the esbuild bundle; resolved at run time.
      const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'package.json');
      const installer = createRequire(from)('@ffmpeg-installer/ffmpeg') as { path: string };
      if (runs(installer.path)) found = { path: installer.path, source: '@ffmpeg-installer/ffmpeg' };
    } catch {
      // not installed (optional dependency skipped, or unsupported platform)
    }
  }
  cache.set('ffmpeg', found);
  return found;
}

export function findFfprobe(): Binary | undefined {
  if (!cache.has('ffprobe')) cache.set('ffprobe', runs('ffprobe') ? { path: 'ffprobe', source: 'PATH' } : undefined);
  return cache.get('ffprobe');
}
