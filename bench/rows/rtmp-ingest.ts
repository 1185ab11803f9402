/**
 * Row 9: real RTMP ingest — 20 ffmpeg publishers at 2 Mbit/s each (`-re`, stream copy of one
 * pre-encoded clip, so the encoders cost next to nothing) into the emulator's RTMP port for
 * 30 s (quick: 20 s), FragDuration 2. The emulator runs in this process (memory storage) so its
 * instrumentation hook sees every fragment: lateness = wall ms from the arrival of the key frame
 * that closes a fragment to its .ts object and the live playlist being stored. Also: fragments
 * written vs expected, and the emulator process's CPU (% of one core) over the push.
 * Never fails: without ffmpeg the row says "not measured" and why.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { OssClient, staticCredentials } from '../../shared/oss';
import { startEmulator, DEFAULT_BUCKET } from '../../local/emulator';
import { findFfmpeg } from '../../local/emulator/rtmp/ffmpeg';
import { ms, num, percent } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const PUSHERS = 20;
const FRAG_DURATION_S = 2;
/** p99 lateness target: well inside one FragDuration, so the live playlist never falls behind. */
const TARGET_P99_MS = 1000;

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN;
}

function runFfmpeg(bin: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const title = `rtmp ingest ${PUSHERS}×2 Mbit/s: fragment lateness p99`;
  const ffmpeg = findFfmpeg();
  if (!ffmpeg)
    return [
      {
        name: title,
        target: `< ${ms(TARGET_P99_MS)}`,
        notMeasured: 'no ffmpeg on PATH and no @ffmpeg-installer/ffmpeg',
      },
    ];
  const seconds = quick ? 20 : 30;
  const dir = await mkdtemp(join(tmpdir(), 'livecycle-bench-rtmp-'));
  const clip = join(dir, 'clip.flv');
  progress(`rtmp: encoding a 10 s 2 Mbit/s clip with ${ffmpeg.source} ffmpeg`);
  const encoded = await runFfmpeg(ffmpeg.path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    '10',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-b:v',
    '1900k',
    '-maxrate',
    '1900k',
    '-bufsize',
    '1900k',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-f',
    'flv',
    '-y',
    clip,
  ]);
  if (encoded.code !== 0) throw new Error(`encoding the clip failed: ${encoded.stderr}`);

  const lateness: number[] = [];
  const emu = await startEmulator({
    port: 0,
    rtmpPort: 0,
    logger: createLogger({ name: 'bench-rtmp', level: 'warn' }),
    rtmpHooks: { onFragmentStored: (late) => lateness.push(late) },
  });
  installClock(emu.clock);
  const key = emu.accessKeys[0]!;
  const client = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    rtmpEndpoint: emu.rtmpOrigin,
    credentials: staticCredentials({ accessKeyId: key.id, accessKeySecret: key.secret }),
  });
  try {
    const bucket = client.bucket(DEFAULT_BUCKET);
    const urls: string[] = [];
    for (let i = 0; i < PUSHERS; i++) {
      const channel = `bench-rtmp-${i}`;
      await bucket.putLiveChannel(channel, { target: { fragDuration: FRAG_DURATION_S, fragCount: 3 } });
      urls.push(await bucket.signRtmpUrl(channel, { expiresInSeconds: 3600 }));
    }
    progress(`rtmp: ${PUSHERS} pushes of ${seconds} s`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.all(
      urls.map((url) =>
        runFfmpeg(ffmpeg.path, [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          clip,
          '-t',
          String(seconds),
          '-c',
          'copy',
          '-f',
          'flv',
          url,
        ]),
      ),
    );
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const failed = results.filter((r) => r.code !== 0);
    // Let the last fragments (stored at disconnect) land.
    for (let i = 0; i < 100 && emu.ingest.active().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    let fragments = 0;
    for (let i = 0; i < PUSHERS; i++)
      fragments += (await bucket.listObjects({ prefix: `bench-rtmp-${i}/`, maxKeys: 1000 })).objects.filter((o) =>
        o.key.endsWith('.ts'),
      ).length;
    const expected = PUSHERS * Math.ceil(seconds / FRAG_DURATION_S);
    const sorted = [...lateness].sort((a, b) => a - b);
    const p50 = quantile(sorted, 0.5);
    const p99 = quantile(sorted, 0.99);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / (wallS * 1000)) * 100;
    const raw = {
      pushers: PUSHERS,
      seconds,
      wallS,
      failedPushes: failed.length,
      failures: failed.map((f) => f.stderr),
      fragments,
      expected,
      latenessMs: sorted,
      p50,
      p99,
      emulatorCpuPercentOfOneCore: cpuPercent,
    };
    return [
      {
        name: title,
        ours: ms(p99),
        peer: `p50 ${ms(p50)}, max ${ms(sorted[sorted.length - 1] ?? NaN)}`,
        target: `< ${ms(TARGET_P99_MS)} (FragDuration ${FRAG_DURATION_S} s)`,
        met: failed.length === 0 && p99 < TARGET_P99_MS,
        raw,
      },
      {
        name: `rtmp ingest ${PUSHERS}×2 Mbit/s: fragments written`,
        ours: `${num(fragments, 0)} of ${num(expected, 0)}`,
        peer: `emulator CPU ${num(cpuPercent, 0)} % of a core${failed.length ? `, ${failed.length} pushes failed` : ''}`,
        ratio: percent(fragments, expected),
        target: 'all, no push refused',
        met: failed.length === 0 && fragments >= expected,
      },
    ];
  } finally {
    await client.close();
    await emu.stop();
    installClock(undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export const rtmpIngest: BenchSection = { name: 'rtmp-ingest', title: 'rtmp ingest (20 concurrent pushes)', run };
