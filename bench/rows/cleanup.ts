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
/** Interleaved rounds per size below 1M (BENCH_CLEANUP_ROUNDS overrides; 1M runs one round). */
const ROUNDS = Number(process.env.BENCH_CLEANUP_ROUNDS) || 2;
const MODES = ['limit', 'ours', 'overlap', 'peer'] as const;
type Mode = (typeof MODES)[number];
/** At 1M only the pair the target compares: a pass takes several minutes here. */
const HUGE_MODES: readonly Mode[] = ['limit', 'ours'];

interface RunResult {
  deleted: number;
  wallMs: number;
  /** The child's user + system CPU over the pass. */
  cpuMs: number;
  maxRssKiB: number;
  heapLimitMiB: number;
  /** The watchdog saw RSS above memorySize (FC would have killed the instance). */
  killed: boolean;
  /** Counted at the emulator during the pass. */
  requests: Record<string, number>;
  /** The emulator process's CPU over the pass. */
  emulatorCpuMs: number;
  /** 1-minute load average when the pass started. */
  load: number;
}

/** cleanup-orphans as s.yaml deploys it: memory and NODE_OPTIONS. */
function functionLimits(): { memoryMiB: number; nodeOptions: string } {
  const fn = loadSYaml(join(ROOT, 's.yaml')).functions.find((f) => f.name === 'cleanup-orphans');
  if (!fn) throw new Error('s.yaml declares no cleanup-orphans function');
  return { memoryMiB: fn.memorySize, nodeOptions: fn.environmentVariables.NODE_OPTIONS ?? '' };
}

/** Objects deleted per second; 0 for a pass the watchdog killed. */
const rate = (r: RunResult) => (r.killed ? 0 : r.deleted / (r.wallMs / 1000));

async function runOnce(
  childJs: string,
  seedDir: string,
  workDir: string,
  mode: Mode,
  limits: { memoryMiB: number; nodeOptions: string },
): Promise<RunResult> {
  await copySeedDir(seedDir, workDir);
  const emu = await spawnEmulator({ dataDir: workDir });
  try {
    await emu.counts(true);
    const cpuBefore = (await emu.usage()).cpu;
    const load = loadavg()[0]!;
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
    const cpuAfter = (await emu.usage()).cpu;
    const { byKind } = await emu.counts();
    if (stderr.trim()) process.stderr.write(stderr);
    const child = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<
      RunResult,
      'requests' | 'emulatorCpuMs' | 'load'
    >;
    const emulatorCpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000;
    return { ...child, requests: byKind, emulatorCpuMs, load };
  } finally {
    await emu.stop();
  }
}

/** "12.0 (list-v2 1.0, delete-multiple 1.0, …)": requests per 1000 deleted keys, by kind. */
function requestsPer1000(r: RunResult): { total: number; text: string } {
  const per = (count: number) => (count * 1000) / Math.max(1, r.deleted);
  const kinds = Object.entries(r.requests).sort((a, b) => b[1] - a[1]);
  const total = per(kinds.reduce((sum, [, count]) => sum + count, 0));
  return {
    total,
    text: `${num(total, 1)} (${kinds.map(([kind, count]) => `${kind} ${num(per(count), 2)}`).join(', ')})`,
  };
}

async function run({ quick, huge, progress }: BenchOptions): Promise<Row[]> {
  // BENCH_CLEANUP_SIZES (comma list) picks the sizes, e.g. 1000000 alone.
  const sizes = process.env.BENCH_CLEANUP_SIZES
    ? process.env.BENCH_CLEANUP_SIZES.split(',').map(Number)
    : quick
      ? [10_000]
      : huge
        ? [100_000, 1_000_000]
        : [100_000];
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
      const modes = n >= 1_000_000 ? HUGE_MODES : MODES;
      const passes: Record<Mode, RunResult[]> = { limit: [], ours: [], overlap: [], peer: [] };
      for (let round = 1; round <= rounds; round++) {
        for (const mode of modes) {
          progress(
            `cleanup ${num(n)}: ${mode} run ${round}/${rounds} (NODE_OPTIONS "${limits.nodeOptions}", RSS limit ${limits.memoryMiB} MiB, load ${loadavg()[0]!.toFixed(1)})`,
          );
          const r = await runOnce(childJs, seedDir, join(dir, 'work'), mode, limits);
          passes[mode].push(r);
          progress(
            `cleanup ${num(n)}: ${mode} ${r.killed ? 'OOM-KILLED' : 'deleted'} ${num(r.deleted)} in ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${bytes(r.maxRssKiB * 1024)}, heap limit ${r.heapLimitMiB} MiB; per 1000 keys: CPU ${num((r.cpuMs * 1000) / Math.max(1, r.deleted), 1)} ms here, ${num((r.emulatorCpuMs * 1000) / Math.max(1, r.deleted), 1)} ms in the emulator; requests ${requestsPer1000(r).text}`,
          );
        }
        const ratio = (mode: Mode) => percent(rate(passes[mode][round - 1]!), rate(passes.limit[round - 1]!));
        progress(
          `cleanup ${num(n)}: round ${round}: ${modes
            .filter((m) => m !== 'limit')
            .map((m) => `${m} ${ratio(m)}`)
            .join(', ')} of limit`,
        );
      }
      const rates = (mode: Mode) => passes[mode].map(rate);
      const medianRate = (mode: Mode) => median(rates(mode));
      const spread = (mode: Mode) =>
        rounds > 1 ? ` (${num(Math.min(...rates(mode)))}–${num(Math.max(...rates(mode)))})` : '';
      // The highest peak of any round stands for the mode.
      const peak = (mode: Mode) => passes[mode].reduce((a, b) => (b.maxRssKiB > a.maxRssKiB ? b : a));
      const o = peak('ours');
      const l = peak('limit');
      const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
      const complete = passes.ours.every((r) => r.deleted === n && !r.killed);
      const rss = (r: RunResult) => `${bytes(r.maxRssKiB * 1024)}${r.killed ? ' (OOM-killed)' : ''}`;
      const perKey = (mode: Mode, ms: (r: RunResult) => number) =>
        median(passes[mode].map((r) => (ms(r) * 1000) / Math.max(1, r.deleted)));
      const cpu = (mode: Mode) =>
        `${num(
          perKey(mode, (r) => r.cpuMs),
          1,
        )} ms + emulator ${num(
          perKey(mode, (r) => r.emulatorCpuMs),
          1,
        )} ms`;
      const totalCpu = (mode: Mode) => perKey(mode, (r) => r.cpuMs + r.emulatorCpuMs);
      const loads = Object.values(passes).flatMap((list) => list.map((r) => r.load));
      const loadText = `load ${num(Math.min(...loads), 1)}–${num(Math.max(...loads), 1)}`;
      const oursVsLimit = medianRate('ours') / medianRate('limit');
      progress(
        `cleanup ${num(n)}: ours ${percent(medianRate('ours'), medianRate('limit'))} of the bare loop — ${oursVsLimit >= 0.9 ? 'PASS' : 'FAIL'} (target ≥ 90 %); ${loadText}`,
      );
      rows.push(
        {
          name: `cleanup ${label} orphans: objects/s`,
          ours: `${num(medianRate('ours'))}${spread('ours')}`,
          peer: `limit ${num(medianRate('limit'))}${spread('limit')}; ${passes.peer.length ? `ali-oss ${num(medianRate('peer'))}${spread('peer')}; ` : ''}${loadText}`,
          ratio: `${percent(medianRate('ours'), medianRate('limit'))} of limit`,
          target: '≥ 90 % of limit',
          met: complete && oursVsLimit >= 0.9,
          raw: { objects: n, rounds, passes, oursDeletedAll: complete, limits },
        },
        ...(passes.overlap.length
          ? [
              {
                name: `cleanup ${label} orphans: vs overlapped loop`,
                ours: num(medianRate('ours')),
                peer: `list/delete overlapped ${num(medianRate('overlap'))}${spread('overlap')}`,
                ratio: `${percent(medianRate('ours'), medianRate('overlap'))} of it`,
                target: '≥ 90 % (stricter; context)',
                met: complete && medianRate('ours') >= 0.9 * medianRate('overlap'),
              },
            ]
          : []),
        {
          name: `cleanup ${label} orphans: requests per 1000 keys`,
          ours: requestsPer1000(passes.ours[0]!).text,
          peer: `limit ${num(requestsPer1000(passes.limit[0]!).total, 1)}`,
          ratio: `×${num(requestsPer1000(passes.ours[0]!).total / requestsPer1000(passes.limit[0]!).total, 1)}`,
          target: 'context',
        },
        {
          name: `cleanup ${label} orphans: CPU per 1000 keys`,
          ours: cpu('ours'),
          peer: `limit ${cpu('limit')}`,
          // When both processes wait for CPU (a loaded machine), rates go as the inverse of this sum.
          ratio: `CPU-bound ${percent(totalCpu('limit'), totalCpu('ours'))} of limit`,
          target: 'context',
        },
        {
          name: `cleanup ${label} orphans: peak RSS`,
          ours: rss(o),
          peer: `limit ${rss(l)}${passes.peer.length ? `; ali-oss ${rss(peak('peer'))}` : ''}`,
          ratio: `${percent(o.maxRssKiB / 1024, limits.memoryMiB)} of memorySize`,
          target: `< memorySize ${limits.memoryMiB} MiB (heap limit ${o.heapLimitMiB} MiB)`,
          met: complete && o.maxRssKiB / 1024 < limits.memoryMiB,
        },
      );
      if (!complete) progress(`cleanup ${num(n)}: ours deleted ${num(o.deleted)} of ${num(n)}`);
      await rm(seedDir, { recursive: true, force: true });
    }
    if (!sizes.includes(1_000_000))
      rows.push({
        name: 'cleanup 1M orphans',
        target: `≥ 90 % of limit; < memorySize ${limits.memoryMiB} MiB`,
        notMeasured:
          "only with --huge or BENCH_CLEANUP_SIZES=1000000 (one pass over 1,000,000 objects takes several minutes at this emulator's list+delete rate)",
      });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const cleanup: BenchSection = { name: 'cleanup', title: 'cleanup of orphaned fragments', run };
