/**
 * Row 3: the emulator's own limits, which later rows are judged against.
 *  - GetLiveChannelStat requests/s: our client, keep-alive pool, 16 in flight, one channel.
 *  - ListObjectsV2 pages of 1000 keys/s: continuation-token walks over a bucket of 1,000,000
 *    (quick: 100,000) one-byte keys seeded through the data-directory journal (lib/seed.ts).
 * The peer column shows ali-oss doing the same against the same emulator, for context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aliOss, ourClient } from '../lib/clients';
import { BUCKET, spawnEmulator } from '../lib/emulator';
import { writeSeedDir } from '../lib/seed';
import { median, num, times } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const CONCURRENCY = 16;

/** Requests/s of `fn` with `concurrency` in flight for `durationMs`. */
async function throughput(fn: () => Promise<unknown>, concurrency: number, durationMs: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

function* bulkKeys(n: number): Generator<string> {
  for (let i = 0; i < n; i++) yield `bulk/${String(i).padStart(8, '0')}.ts`;
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const keys = quick ? 100_000 : 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'livecycle-bench-limits-'));
  try {
    const t0 = performance.now();
    await writeSeedDir(dir, BUCKET, bulkKeys(keys), Date.UTC(2024, 4, 1));
    progress(
      `emulator limits: seeded ${num(keys)} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s; starting emulator (replays the journal)`,
    );
    const t1 = performance.now();
    const emu = await spawnEmulator({ dataDir: dir });
    progress(`emulator limits: emulator up in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    const ours = ourClient(emu, CONCURRENCY);
    const peer = aliOss(emu, CONCURRENCY);
    try {
      const b = ours.bucket(BUCKET);
      await b.putLiveChannel('bench-stat');
      const trials = 3;
      const ms = quick ? 1500 : 3000;
      const statOurs: number[] = [];
      const statPeer: number[] = [];
      await throughput(() => b.getLiveChannelStat('bench-stat'), CONCURRENCY, 300);
      await throughput(() => peer.getChannelStatus('bench-stat'), CONCURRENCY, 300);
      for (let i = 0; i < trials; i++) {
        statOurs.push(await throughput(() => b.getLiveChannelStat('bench-stat'), CONCURRENCY, ms));
        statPeer.push(await throughput(() => peer.getChannelStatus('bench-stat'), CONCURRENCY, ms));
      }
      const so = median(statOurs);
      const sp = median(statPeer);
      progress(`emulator limits: GetLiveChannelStat ours ${num(so)}/s, ali-oss ${num(sp)}/s`);

      // A full walk of 1,000,000 keys is 1,000 pages per client; at the emulator's rate that alone
      // would take minutes, so each client walks PAGES pages from three points spread over the
      // bucket (the first key, the middle, and the last page-run's worth before the end) and the rate
      // is the median of those.
      const listOurs: number[] = [];
      const listPeer: number[] = [];
      const pagesPerWalk = quick ? 30 : 50;
      const span = keys - pagesPerWalk * 1000;
      const starts = [0, Math.floor(span / 2), span];
      for (const first of starts) {
        const startAfter = first === 0 ? undefined : `bulk/${String(first - 1).padStart(8, '0')}.ts`;
        let s = performance.now();
        let token: string | undefined;
        for (let pages = 0; pages < pagesPerWalk; pages++) {
          const page = await b.listObjects({
            prefix: 'bulk/',
            maxKeys: 1000,
            continuationToken: token,
            startAfter: token ? undefined : startAfter,
          });
          if (page.objects.length !== 1000) throw new Error(`list page had ${page.objects.length} keys`);
          token = page.nextContinuationToken;
        }
        listOurs.push(pagesPerWalk / ((performance.now() - s) / 1000));
        s = performance.now();
        token = undefined;
        for (let pages = 0; pages < pagesPerWalk; pages++) {
          const page = await peer.listV2({
            prefix: 'bulk/',
            'max-keys': '1000',
            ...(token ? { 'continuation-token': token } : startAfter ? { 'start-after': startAfter } : {}),
          });
          if (page.objects?.length !== 1000) throw new Error(`ali-oss list page had ${page.objects?.length} keys`);
          token = page.nextContinuationToken;
        }
        listPeer.push(pagesPerWalk / ((performance.now() - s) / 1000));
        progress(
          `emulator limits: ${pagesPerWalk} pages from key #${first.toLocaleString('en-US')}: ours ${num(listOurs.at(-1)!)} pages/s, ali-oss ${num(listPeer.at(-1)!)} pages/s`,
        );
      }
      const lo = median(listOurs);
      const lp = median(listPeer);
      return [
        {
          name: `emu GetLiveChannelStat req/s (c=${CONCURRENCY})`,
          ours: num(so),
          peer: `ali-oss ${num(sp)}`,
          ratio: times(so, sp),
          target: '(limit; context)',
          raw: { concurrency: CONCURRENCY, trialMs: ms, ours: statOurs, peer: statPeer },
        },
        {
          name: `emu ListObjectsV2 1000-key pages/s (${num(keys / 1000)}k keys)`,
          ours: num(lo),
          peer: `ali-oss ${num(lp)}`,
          ratio: times(lo, lp),
          target: '(limit; context)',
          raw: { keys, pagesPerWalk, starts, ours: listOurs, peer: listPeer },
        },
      ];
    } finally {
      await ours.close();
      await emu.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const emulatorLimits: BenchSection = { name: 'emulator-limits', title: 'emulator limits', run };
