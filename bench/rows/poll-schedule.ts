/**
 * Row 9: adaptive polling in steady state — requests per channel per minute over 30 minutes of
 * emulator time (one History grid at the default cap), and `stream.started` latency of pushes
 * to idle channels.
 *
 * 1,000 channels (quick 200), created two hours of emulator time before the first tick, so every
 * one is past IDLE_AFTER and at the POLL_IDLE_MAX_INTERVAL cap (s.yaml's values); 2 % of them
 * push throughout (live). poll-stat's tick (`pollStat(ctx, 'tick')`, the function's own
 * context, one shard) runs once per emulator minute on a frozen ControlledClock shared with an
 * in-process emulator, so figures are emulator time and request counts, independent of load.
 * During the window 20 idle channels (quick 10) start a push (kept up to the end) at seeded
 * random seconds of its first 20 minutes; latency = emulator time from the push's start to the end of the tick that
 * announced
 * its `stream.started` — the tick whose Stat saw the channel live, which records "seen live" in the
 * ledger (read back here) and announces the start in the same reconcile (webhooks are off here).
 * Requests are counted where the emulator receives them (Node's `http.server.request.start`
 * diagnostics channel): Stat and History per channel; ListLiveChannel, poll state and wake
 * listing per tick, spread over all channels in the "all requests" row.
 * Peer: the ali-oss loop of row 5 (Stat + History per enabled channel per tick) over the same
 * channels, one tick, counted the same way.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { ControlledClock, installClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { Ledger } from '../../shared/ledger';
import { startEmulator } from '../../local/emulator';
import { join } from 'node:path';
import { loadSYaml } from '../../local/runtime/syaml';
import { aliOss, ourClient } from '../lib/clients';
import { pollStatTick } from '../lib/poll';
import { BUCKET } from '../lib/constants';
import { ROOT } from '../lib/emulator';
import { median, num, pool } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const MINUTE = 60_000;
const WINDOW_MIN = 30;
/** Pushes start in the first WINDOW_MIN - LAST_START_MARGIN_MIN minutes, so each can be announced. */
const LAST_START_MARGIN_MIN = 10;

/** Deterministic PRNG (mulberry32) so every run pushes at the same seconds. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const n = quick ? 200 : 1000;
  const pushers = quick ? 10 : 20;
  const env = loadSYaml(join(ROOT, 's.yaml')).functions.find((f) => f.name === 'poll-stat')?.environmentVariables ?? {};
  const idleAfter = env.IDLE_AFTER ?? '1800';
  const cap = env.POLL_IDLE_MAX_INTERVAL ?? '300';
  // Ends near real time: ali-oss signs with the system clock, and the emulator refuses skew over 15 min.
  const t0 = Math.floor((Date.now() - (120 + 10 + WINDOW_MIN) * MINUTE) / MINUTE) * MINUTE;
  const clock = new ControlledClock({ startMs: t0, rate: 0 });
  installClock(clock);
  const emu = await startEmulator({
    port: 0,
    buckets: [BUCKET],
    clock,
    logger: createLogger({ name: 'bench-emulator', level: 'silent' }),
  });
  const counts = { perChannel: new Map<string, number>(), other: 0, paused: false };
  const onRequest = (message: unknown) => {
    if (counts.paused) return;
    const url = new URL((message as { request: IncomingMessage }).request.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith('/_emulator')) return;
    // Path style /<bucket>/<channel> (ours), or virtual-hosted <bucket>.<host>/<channel> (ali-oss).
    const virtualHosted = ((message as { request: IncomingMessage }).request.headers.host ?? '').startsWith(
      `${BUCKET}.`,
    );
    const channel = url.searchParams.has('live')
      ? decodeURIComponent(url.pathname.split('/')[virtualHosted ? 1 : 2] ?? '')
      : '';
    if (channel) counts.perChannel.set(channel, (counts.perChannel.get(channel) ?? 0) + 1);
    else counts.other++;
  };
  const name = (i: number) => `ch-${String(i).padStart(6, '0')}`;
  const liveEvery = 50; // 2 %
  const isLive = (i: number) => i % liveEvery === 0;
  const random = prng(14);
  const idle = Array.from({ length: n }, (_, i) => i).filter((i) => !isLive(i));
  // Pushers: evenly spread over the idle channels; the rest stay idle for the whole window.
  const pushing = new Map<number, number>(
    idle
      .filter((_, k) => k % Math.floor(idle.length / pushers) === 0)
      .slice(0, pushers)
      .map((i) => [i, Math.floor(random() * (WINDOW_MIN - LAST_START_MARGIN_MIN) * MINUTE)]),
  );
  const quiet = idle.filter((i) => !pushing.has(i));

  const emuRef = { url: emu.url, region: emu.region, accessKey: emu.accessKeys[0] as { id: string; secret: string } };
  const client = ourClient(emuRef, 16);
  const bucket = client.bucket(BUCKET);
  const ledger = new Ledger(bucket);
  subscribe('http.server.request.start', onRequest);
  try {
    await pool(n, 16, async (i) => {
      await bucket.putLiveChannel(name(i), {});
    });
    await clock.advance(2 * 60 * MINUTE);
    for (let i = 0; i < n; i += liveEvery) await emu.ingest.start({ bucket: BUCKET, channel: name(i) });

    const tick = await pollStatTick(emuRef, { ...env, POLL_SHARD_SIZE: String(n) });
    // Warm-up: first sight of every channel (Stat + History), then 10 minutes to settle on the grid.
    for (let m = 0; m < 10; m++) {
      await clock.advance(MINUTE);
      await tick();
    }
    progress(
      `poll schedule ${num(n)} ch: warmed up; ${WINDOW_MIN} ticks of emulator time with ${pushers} pushes to idle channels`,
    );
    counts.perChannel.clear();
    counts.other = 0;
    const windowStart = clock.now();
    const latencies: number[] = [];
    const started = new Map<number, number>();
    for (let m = 1; m <= WINDOW_MIN; m++) {
      // Start the pushes that fall in this minute, at their second, then tick at the minute.
      const due = [...pushing]
        .filter(([, offset]) => offset < m * MINUTE && offset >= (m - 1) * MINUTE)
        .sort((a, b) => a[1] - b[1]);
      for (const [i, offset] of due) {
        await clock.advance(windowStart + offset - clock.now());
        await emu.ingest.start({ bucket: BUCKET, channel: name(i) });
        started.set(i, clock.now());
      }
      await clock.advance(windowStart + m * MINUTE - clock.now());
      await tick();
      counts.paused = true; // the bench's own reads below are not poll-stat's
      for (const [i, at] of started) {
        if ((await ledger.lastSeenLive(name(i))) !== undefined) {
          latencies.push(clock.now() - at);
          started.delete(i);
        }
      }
      counts.paused = false;
    }
    const perMinute = (channels: number[]) =>
      channels.reduce((sum, i) => sum + (counts.perChannel.get(name(i)) ?? 0), 0) / channels.length / WINDOW_MIN;
    const live = Array.from({ length: n }, (_, i) => i).filter(isLive);
    const idleRate = perMinute(quiet);
    const liveRate = perMinute(live);
    const allRate = ([...counts.perChannel.values()].reduce((a, b) => a + b, 0) + counts.other) / n / WINDOW_MIN;

    // Peer: ali-oss's obvious loop, one tick over the same channels.
    counts.perChannel.clear();
    const peer = aliOss(emuRef, 8);
    await pool(n, 8, async (i) => {
      await peer.getChannelStatus(name(i));
      await peer.getChannelHistory(name(i));
    });
    const peerRate = [...counts.perChannel.values()].reduce((a, b) => a + b, 0) / n;

    const p50 = latencies.length ? median(latencies) : NaN;
    const max = latencies.length ? Math.max(...latencies) : NaN;
    const capMs = Number(cap) * 1000;
    const raw = {
      channels: n,
      live: live.length,
      quiet: quiet.length,
      pushers,
      windowMin: WINDOW_MIN,
      idleAfter,
      cap,
      idleRate,
      liveRate,
      allRate,
      peerRate,
      latenciesMs: latencies,
      unannounced: started.size,
    };
    progress(
      `poll schedule ${num(n)} ch: idle ${num(idleRate, 3)} req/min, live ${num(liveRate, 2)}, all ${num(allRate, 3)}; latency p50 ${num(p50 / 1000)} s max ${num(max / 1000)} s`,
    );
    const label = `${n / 1000}k ch`;
    return [
      {
        name: `poll schedule ${label}: req / idle ch / min`,
        ours: num(idleRate, 3),
        peer: `ali-oss ${num(peerRate, 2)}; before 1.00`,
        ratio: `${num(1 / idleRate, 1)} × fewer than 1.00`,
        target: '≤ 0.25',
        met: idleRate <= 0.25,
        raw,
      },
      {
        name: `poll schedule ${label}: req / live ch / min`,
        ours: num(liveRate, 2),
        peer: `ali-oss ${num(peerRate, 2)}`,
        target: '1.00',
        met: Math.abs(liveRate - 1) < 0.005,
      },
      {
        name: `poll schedule ${label}: all req / ch / min`,
        ours: num(allRate, 3),
        peer: 'incl. listing, state, wakes, pushes',
        target: '(context)',
      },
      {
        name: `poll schedule ${label}: stream.started latency, idle ch`,
        ours: `p50 ${num(p50 / 1000)} s, max ${num(max / 1000)} s`,
        peer: `${latencies.length}/${pushers} announced`,
        target: `≤ cap + tick = ${num(capMs / 1000 + 60)} s`,
        met: started.size === 0 && max <= capMs + MINUTE,
      },
    ];
  } finally {
    unsubscribe('http.server.request.start', onRequest);
    installClock(undefined);
    await client.close();
    await emu.stop();
  }
}

export const pollSchedule: BenchSection = { name: 'poll-schedule', title: 'poll schedule', run };
