/**
 * The media the simulated publisher "sends": small pre-encoded MPEG-TS segments (H.264 + AAC,
 * one-second GOP) reused cyclically as fragment bodies, and one JPG for snapshots. They live in
 * local/emulator/fixtures (see its README for how they were made).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const FIXTURES = join('local', 'emulator', 'fixtures');
const SEGMENT_FILES = ['segment-0.ts', 'segment-1.ts', 'segment-2.ts'];
const SNAPSHOT_FILE = 'snapshot.jpg';

export interface Media {
  segments: Buffer[];
  snapshot: Buffer;
}

/**
 * Finds the fixtures by walking up to the project root, from this module's directory (run from
 * source, or bundled into dist/cli.js) or else from the working directory.
 */
function findFixturesDir(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    for (let dir = start; dir; dir = dirname(dir) === dir ? undefined : dirname(dir)) {
      const candidate = join(dir, FIXTURES);
      if (existsSync(join(candidate, SNAPSHOT_FILE))) return candidate;
    }
  }
  throw new Error(`LiveChannel media fixtures not found: no ${FIXTURES} above ${starts.filter(Boolean).join(' or ')}`);
}

let loaded: Media | undefined;

export function loadMedia(): Media {
  if (!loaded) {
    const dir = findFixturesDir();
    loaded = {
      segments: SEGMENT_FILES.map((f) => readFileSync(join(dir, f))),
      snapshot: readFileSync(join(dir, SNAPSHOT_FILE)),
    };
  }
  return loaded;
}
