/**
 * Row 2: cold-start cost of the OSS client. Our client is bundled the way scripts/build.mjs
 * bundles a function (esbuild, cjs, node20, minified) from a one-line entry that imports
 * shared/oss, into a temp dir; the peers are `require('ali-oss')` and `require('@alicloud/fc2')`
 * as installed in node_modules (how they are used; FC's nodejs20 runtime ships fc2 the same way).
 */
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../lib/emulator';
import { loadTimes } from '../lib/load';
import { bytes, ms, times } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

export async function bundleOurClient(dir: string): Promise<string> {
  const entry = join(dir, 'entry.ts');
  await writeFile(
    entry,
    `export { OssClient, staticCredentials } from ${JSON.stringify(join(ROOT, 'shared', 'oss'))};\n`,
  );
  const outfile = join(dir, 'client.js');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'livecycle-bench-'));
  try {
    const ours = await bundleOurClient(dir);
    const size = (await stat(ours)).size;
    const runs = quick ? 10 : 15;
    progress(`client load: ${runs} fresh processes each for our bundle (${bytes(size)}), ali-oss, @alicloud/fc2`);
    const t = await loadTimes(
      {
        ours,
        aliOss: require.resolve('ali-oss', { paths: [ROOT] }),
        fc2: require.resolve('@alicloud/fc2', { paths: [ROOT] }),
      },
      runs,
    );
    const o = t['ours']!.medianMs;
    const a = t['aliOss']!.medianMs;
    const f = t['fc2']!.medianMs;
    const raw = { runs, bundleBytes: size, ours: t['ours'], aliOss: t['aliOss'], fc2: t['fc2'] };
    return [
      {
        name: 'client load (require, median)',
        ours: ms(o),
        peer: `ali-oss ${ms(a)}`,
        ratio: times(o, a),
        target: '≤ 30 ms',
        met: o <= 30,
        raw,
      },
      { name: '  … beside @alicloud/fc2', ours: ms(o), peer: `fc2 ${ms(f)}`, ratio: times(o, f), target: '(context)' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const clientLoad: BenchSection = { name: 'client-load', title: 'OSS client load time', run };
