/**
 * Row 6: cleanup of orphaned fragments — `gone-NNNNN/<13 digits>.ts` keys of channels that no
 * longer exist (none is in the emulator's channel list nor the ledger), older than ORPHAN_GRACE,
 * seeded through the data-directory journal. For each of limit / ours / peer: a fresh copy of
 * the seeded bucket, a fresh emulator, and the run in its own plain-node process (the child is
 * esbuild-bundled, so no tsx loader inflates its RSS) reporting objects deleted, wall time and
 * peak RSS. Each child is limited as FC limits cleanup-orphans: NODE_OPTIONS from s.yaml (its
 * --max-old-space-size sets the V8 heap limit; Node would otherwise size it from this machine's
 * memory) and an RSS watchdog at s.yaml's memorySize (lib/cleanup-child.ts) — a pass that
 * exceeds it counts as OOM-killed.
 * Sizes: 100,000 (quick: 10,000); 1,000,000 only with --huge (at this emulator's list+delete
 * rate one pass of a million takes several minutes, three passes would blow the 10-minute budget).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { loadSYaml } from '../../local/runtime/syaml';
import { BUCKET, ROOT, spawnEmulator } from '../lib/emulator';
import { copySeedDir, fragmentKeys, writeSeedDir } from '../lib/seed';
import { bytes, median, num, percent } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const exec = promisify(execFile);
/** Interleaved rounds per size (full runs below 1M). */
const ROUNDS = 2;

interface RunResult {
  deleted: number;
  wallMs: number;
  maxRssKiB: number;
  heapLimitMiB: number;
  /** The watchdog saw RSS above memorySize (FC would have killed the instance). */
  killed: boolean;
}

/** cleanup-orphans as s.yaml deploys it: memory and NODE_OPTIONS. */
function functionLimits(): { memoryMiB: number; nodeOptions: string } {
  const fn = loadSYaml(join(ROOT, 's.yaml')).functions.find((f) => f.name === 'cleanup-orphans');
  if (!fn) throw new Error('s.yaml declares no cleanup-orphans function');
  return { memoryMiB: fn.memorySize, nodeOptions: fn.environmentVariables.NODE_OPTIONS ?? '' };
}

async function runOnce(
  childJs: string,
  seedDir: string,
  workDir: string,
  mode: 'ours' | 'limit' | 'peer',
  limits: { memoryMiB: number; nodeOptions: string },
): Promise<RunResult> {
  await copySeedDir(seedDir, workDir);
  const emu = await spawnEmulator({ dataDir: workDir });
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [childJs, JSON.stringify({ mode, url: emu.url, region: emu.region, accessKey: emu.accessKey, prefix: 'gone-' })],
      {
        cwd: ROOT,
        maxBuffer: 1 << 20,
        env: {
          ...process.env,
          NODE_OPTIONS: limits.nodeOptions,
          BENCH_RSS_LIMIT_MIB: String(limits.memoryMiB),
          NODE_PATH: join(ROOT, 'node_modules'),
        },
      },
    ).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      // Exit 137: the watchdog's OOM kill, which still printed its figures.
      if (err.code === 137 && err.stdout) return { stdout: err.stdout, stderr: err.stderr ?? '' };
      throw err;
    });
    if (stderr.trim()) process.stderr.write(stderr);
    return JSON.parse(stdout.trim().split('\n').pop()!) as RunResult;
  } finally {
    await emu.stop();
  }
}

async function run({ quick, huge, progress }: BenchOptions): Promise<Row[]> {
  const sizes = quick ? [10_000] : huge ? [100_000, 1_000_000] : [100_000];
  const dir = await mkdtemp(join(tmpdir(), 'livecycle-bench-cleanup-'));
  const rows: Row[] = [];
  const limits = functionLimits();
  try {
    const childJs = join(dir, 'cleanup-child.js');
    await build({
      entryPoints: [join(ROOT, 'bench', 'lib', 'cleanup-child.ts')],
      outfile: childJs,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['ali-oss', '@alicloud/fc2'],
      nodePaths: [join(ROOT, 'node_modules')],
      logLevel: 'error',
    });
    for (const n of sizes) {
      const seedDir = join(dir, `seed-${n}`);
      await writeSeedDir(seedDir, BUCKET, fragmentKeys(n, Math.max(1, n / 1000)), Date.UTC(2024, 4, 1));
      // Rounds of limit, ours, peer interleaved, so load that comes and goes on the shared cores
      // hits every mode alike; rates are medians over the rounds (min–max shown).
      const rounds = quick || n >= 1_000_000 ? 1 : ROUNDS;
      const passes: Record<'limit' | 'ours' | 'peer', RunResult[]> = { limit: [], ours: [], peer: [] };
      for (let round = 1; round <= rounds; round++) {
        for (const mode of ['limit', 'ours', 'peer'] as const) {
          progress(
            `cleanup ${num(n)}: ${mode} run ${round}/${rounds} (NODE_OPTIONS "${limits.nodeOptions}", RSS limit ${limits.memoryMiB} MiB, load ${loadavg()[0]!.toFixed(1)})`,
          );
          const r = await runOnce(childJs, seedDir, join(dir, 'work'), mode, limits);
          passes[mode].push(r);
          progress(
            `cleanup ${num(n)}: ${mode} ${r.killed ? 'OOM-KILLED' : 'deleted'} ${num(r.deleted)} in ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${bytes(r.maxRssKiB * 1024)}, heap limit ${r.heapLimitMiB} MiB`,
          );
        }
      }
      const rates = (mode: keyof typeof passes) =>
        passes[mode].map((r) => (r.killed ? 0 : r.deleted / (r.wallMs / 1000)));
      const rate = (mode: keyof typeof passes) => median(rates(mode));
      const spread = (mode: keyof typeof passes) =>
        rounds > 1 ? ` (${num(Math.min(...rates(mode)))}–${num(Math.max(...rates(mode)))})` : '';
      // The highest peak of any round stands for the mode.
      const peak = (mode: keyof typeof passes) => passes[mode].reduce((a, b) => (b.maxRssKiB > a.maxRssKiB ? b : a));
      const o = peak('ours');
      const l = peak('limit');
      const p = peak('peer');
      const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
      const complete = passes.ours.every((r) => r.deleted === n && !r.killed);
      const rss = (r: RunResult) => `${bytes(r.maxRssKiB * 1024)}${r.killed ? ' (OOM-killed)' : ''}`;
      rows.push(
        {
          name: `cleanup ${label} orphans: objects/s`,
          ours: `${num(rate('ours'))}${spread('ours')}`,
          peer: `limit ${num(rate('limit'))}${spread('limit')}; ali-oss ${num(rate('peer'))}${spread('peer')}`,
          ratio: `${percent(rate('ours'), rate('limit'))} of limit`,
          target: '≥ 90 % of limit',
          met: complete && rate('ours') >= 0.9 * rate('limit'),
          raw: { objects: n, rounds, passes, oursDeletedAll: complete, limits },
        },
        {
          name: `cleanup ${label} orphans: peak RSS`,
          ours: rss(o),
          peer: `limit ${rss(l)}; ali-oss ${rss(p)}`,
          ratio: `${percent(o.maxRssKiB / 1024, limits.memoryMiB)} of memorySize`,
          target: `< memorySize ${limits.memoryMiB} MiB (heap limit ${o.heapLimitMiB} MiB)`,
          met: complete && o.maxRssKiB / 1024 < limits.memoryMiB,
        },
      );
      if (!complete) progress(`cleanup ${num(n)}: ours deleted ${num(o.deleted)} of ${num(n)}`);
      await rm(seedDir, { recursive: true, force: true });
    }
    if (!huge && !quick)
      rows.push({
        name: 'cleanup 1M orphans',
        target: `≥ 90 % of limit; < memorySize ${limits.memoryMiB} MiB`,
        notMeasured:
          "only with --huge (three passes over 1,000,000 objects at this emulator's list+delete rate exceed the 10-minute budget)",
      });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const cleanup: BenchSection = { name: 'cleanup', title: 'cleanup of orphaned fragments', run };
