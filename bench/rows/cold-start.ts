/**
 * Row 4: cold start of every built function bundle, dist/<fn>/index.js (npm run bench builds
 * them first): require time over fresh processes, with the NODE_OPTIONS s.yaml deploys the
 * function with, beside `require('ali-oss')` timed in the same interleaved runs (target: ≤ 0.25×
 * it); bundle size; and whether @alicloud/fc2 is loaded at require time (it must not be: only
 * the async-invoke path needs it, and build.mjs marks it external so a lazy require() is what
 * keeps it off the cold path).
 *
 * Judged on wall time and CPU time alike: the issue asks for load time, which is wall time, but
 * on the shared 2-core machine a wall sample is mostly the wait for a core (5–10× spreads), so
 * CPU time (every thread) is the load-independent check of the same work. A bundle meets the
 * target only when both medians are ≤ 0.25× ali-oss's in each of two rounds run back to back,
 * so one lucky round or the friendlier of the two figures cannot pass it.
 *
 * Also timed in the same runs: what the first OSS request adds, dist/<fn>/undici.js with the
 * Pool and request modules evaluated (build.mjs moves undici out of the bundle; it is paid on
 * the first request instead, except by invocations that send none).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadSYaml } from '../../local/runtime/syaml';
import { ROOT } from '../lib/emulator';
import { loadTimes, type LoadTarget, type LoadTimes } from '../lib/load';
import { bytes, ms, times } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const require = createRequire(import.meta.url);
const TARGET_RATIO = 0.25;
const ROUNDS = 2;

const spread = (r: { medianMs: number; minMs: number; maxMs: number }) =>
  `${ms(r.medianMs)} (${ms(r.minMs)}–${ms(r.maxMs)})`;
const cpuSpread = (r: { cpuMedianMs: number; cpuMinMs: number; cpuMaxMs: number }) =>
  `CPU ${ms(r.cpuMedianMs)} (${ms(r.cpuMinMs)}–${ms(r.cpuMaxMs)})`;
const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const functions = loadSYaml(join(ROOT, 's.yaml')).functions;
  const bundle = (name: string) => join(ROOT, 'dist', name, 'index.js');
  const rows: Row[] = [];
  const present = functions.filter(
    (f) => existsSync(bundle(f.name)) && existsSync(join(ROOT, 'functions', f.name, 'index.ts')),
  );
  for (const f of functions.filter((f) => !present.includes(f)))
    rows.push({
      name: `cold start dist/${f.name}`,
      target: `≤ ${TARGET_RATIO}× ali-oss`,
      notMeasured: `functions/${f.name}/index.ts is not in the tree yet, so there is no bundle to load`,
    });
  if (!present.length) return rows;
  const runs = quick ? 10 : 15;
  const targets: Record<string, LoadTarget> = { 'ali-oss': require.resolve('ali-oss', { paths: [ROOT] }) };
  for (const f of present)
    targets[f.name] = { path: bundle(f.name), nodeOptions: f.environmentVariables.NODE_OPTIONS ?? '' };
  // Every bundle's undici.js is the same build; one stands for all.
  const dir = await mkdtemp(join(tmpdir(), 'livecycle-bench-'));
  const undiciFile = join(ROOT, 'dist', present[0]!.name, 'undici.js');
  const firstRequest = join(dir, 'first-request.js');
  await writeFile(
    firstRequest,
    `const undici = require(${JSON.stringify(undiciFile)});\n` +
      `module.exports = [undici['undici/lib/dispatcher/pool.js'], undici['undici/lib/api/api-request.js']];\n`,
  );
  if (existsSync(undiciFile)) targets['undici.js'] = firstRequest;
  const rounds: { t: LoadTimes; loadBefore: string; loadAfter: string }[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const loadBefore = loadAverage();
      progress(
        `cold start round ${round}/${ROUNDS}: ${present.length} bundles + ali-oss × ${runs} fresh processes (load average ${loadBefore})`,
      );
      rounds.push({ t: await loadTimes(targets, runs), loadBefore, loadAfter: loadAverage() });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const undiciBytes = existsSync(undiciFile) ? (await stat(undiciFile)).size : 0;
  for (const f of present) {
    const size = (await stat(bundle(f.name))).size;
    const judged = rounds.map(({ t }) => {
      const r = t[f.name]!;
      const peer = t['ali-oss']!;
      return {
        r,
        peer,
        wall: r.medianMs / peer.medianMs,
        cpu: r.cpuMedianMs / peer.cpuMedianMs,
        ratio: `wall ${times(r.medianMs, peer.medianMs)}, CPU ${times(r.cpuMedianMs, peer.cpuMedianMs)}`,
      };
    });
    const last = judged[judged.length - 1]!;
    const fc2 = judged.some((j) => j.r.fc2);
    const firstReq = rounds[rounds.length - 1]!.t['undici.js'];
    rows.push({
      name: `cold start dist/${f.name}`,
      ours: `${spread(last.r)}; ${cpuSpread(last.r)}`,
      peer:
        `ali-oss ${spread(last.peer)}; ${cpuSpread(last.peer)}; ${bytes(size)}` +
        `${undiciBytes ? ` (+ undici.js ${bytes(undiciBytes)} at the first request${firstReq ? `: CPU ${ms(firstReq.cpuMedianMs)}` : ''})` : ''}` +
        `${fc2 ? ', loads fc2!' : ', no fc2'}; load avg ${rounds.map((r) => r.loadBefore.split(' ')[0]).join('/')}`,
      ratio: judged.map((j) => j.ratio).join(' | '),
      target: `≤ ${TARGET_RATIO}× ali-oss (wall and CPU, ${ROUNDS} rounds), fc2 not loaded`,
      met: judged.every((j) => j.wall <= TARGET_RATIO && j.cpu <= TARGET_RATIO) && !fc2,
      raw: {
        bundleBytes: size,
        undiciBytes,
        nodeOptions: (targets[f.name] as { nodeOptions: string }).nodeOptions,
        rounds: rounds.map(({ t, loadBefore, loadAfter }, i) => ({
          loadavgBefore: loadBefore,
          loadavgAfter: loadAfter,
          wallRatio: judged[i]!.wall,
          cpuRatio: judged[i]!.cpu,
          ...t[f.name],
          aliOss: t['ali-oss'],
          firstRequestUndici: t['undici.js'],
        })),
      },
    });
  }
  return rows;
}

export const coldStart: BenchSection = { name: 'cold-start', title: 'cold start of every function bundle', run };
