/**
 * Row 5: one poll tick over 1,000 and 10,000 channels (10 % live, 20 % disabled) with 20 ms of
 * latency added to every request by the emulator (fault rule `* latency 20`).
 *
 * Ours: shared/operations/poll-stat `pollStat(ctx, 'tick')` with the context every function
 * builds (createInstance + createOperationContext, env as s.yaml sets it, POLL_CONCURRENCY 8).
 * POLL_SHARD_SIZE is raised above the channel count so one invocation polls every channel (the
 * fan-out is row 8). Tick 1 runs without latency (it reconciles every channel's History into the
 * ledger); tick 2 — steady state — is the one measured, with latency.
 * Peer: ali-oss, the straightforward poller: listChannels pages, then getChannelStatus +
 * getChannelHistory for every enabled channel (disabled ones skipped: the listing says so),
 * 8 in flight — same emulator, same latency, same run.
 * Requests are counted at the emulator (lib/emu-child.ts, per channel from the request path).
 * Ideal = requests × 20 ms / 8, as the brief defines it (the listing pages are sequential, so
 * this slightly favours neither side: both list the same pages).
 */
import { aliOss, ourClient } from '../lib/clients';
import { pollStatTick } from '../lib/poll';
import { BUCKET, spawnEmulator, type BenchEmulator, type RequestCounts } from '../lib/emulator';
import { num, pool, times } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const LATENCY_MS = 20;
const CONCURRENCY = 8;

function channelName(i: number): string {
  return `ch-${String(i).padStart(6, '0')}`;
}

/** i % 10 === 0 → live; i % 10 in {1, 2} → disabled; the rest idle. */
function kind(i: number): 'live' | 'disabled' | 'idle' {
  const r = i % 10;
  return r === 0 ? 'live' : r === 1 || r === 2 ? 'disabled' : 'idle';
}

async function setup(emu: BenchEmulator, n: number, progress: (m: string) => void): Promise<void> {
  const client = ourClient(emu, 32);
  const b = client.bucket(BUCKET);
  const t0 = performance.now();
  await pool(n, 32, async (i) => {
    await b.putLiveChannel(channelName(i), { status: kind(i) === 'disabled' ? 'disabled' : 'enabled' });
  });
  await pool(n, 16, async (i) => {
    if (kind(i) === 'live') await emu.admin('POST', '/ingest/start', { bucket: BUCKET, channel: channelName(i) });
  });
  await client.close();
  progress(
    `poll tick ${num(n)}: created channels and started ${num(n / 10)} pushes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

function perChannel(counts: RequestCounts, n: number): { enabled: number; disabled: number } {
  let enabled = 0;
  let disabled = 0;
  for (let i = 0; i < n; i++) {
    const c = counts.byChannel[channelName(i)] ?? 0;
    if (kind(i) === 'disabled') disabled += c;
    else enabled += c;
  }
  const nd = Math.round(n * 0.2);
  return { enabled: enabled / (n - nd), disabled: disabled / nd };
}

function ourTick(emu: BenchEmulator, n: number): Promise<() => Promise<unknown>> {
  return pollStatTick(emu, {
    POLL_CONCURRENCY: String(CONCURRENCY),
    POLL_SHARD_SIZE: String(n + 1),
    RECONNECT_WINDOW: '60',
  });
}

async function peerTick(emu: BenchEmulator): Promise<() => Promise<unknown>> {
  const peer = aliOss(emu, CONCURRENCY);
  return async () => {
    const enabled: string[] = [];
    let marker: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof peer.listChannels>> = await peer.listChannels({
        'max-keys': 1000,
        ...(marker ? { marker } : {}),
      });
      for (const c of page.channels) if (c.Status === 'enabled') enabled.push(c.Name);
      marker = page.isTruncated ? page.nextMarker : null;
    } while (marker);
    await pool(enabled.length, CONCURRENCY, async (i) => {
      await peer.getChannelStatus(enabled[i]!);
      await peer.getChannelHistory(enabled[i]!);
    });
  };
}

async function measure(emu: BenchEmulator, tick: () => Promise<unknown>, n: number) {
  await emu.counts(true);
  const t0 = performance.now();
  await tick();
  const wallMs = performance.now() - t0;
  const counts = await emu.counts(true);
  const ideal = (counts.total * LATENCY_MS) / CONCURRENCY;
  return { wallMs, requests: counts.total, idealMs: ideal, byKind: counts.byKind, ...perChannel(counts, n) };
}

async function runSize(n: number, progress: (m: string) => void): Promise<Row[]> {
  const emu = await spawnEmulator();
  try {
    await setup(emu, n, progress);
    const ours = await ourTick(emu, n);
    const peer = await peerTick(emu);
    let t0 = performance.now();
    await ours();
    progress(
      `poll tick ${num(n)}: ours tick 1 (no latency, reconciles everything) ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await emu.setFaults([{ operation: '*', rate: 1, kind: 'latency', ms: LATENCY_MS }]);
    const o = await measure(emu, ours, n);
    progress(
      `poll tick ${num(n)}: ours tick 2 ${(o.wallMs / 1000).toFixed(1)} s, ${num(o.requests)} requests (${JSON.stringify(o.byKind)})`,
    );
    t0 = performance.now();
    const p = await measure(emu, peer, n);
    progress(
      `poll tick ${num(n)}: ali-oss tick ${(p.wallMs / 1000).toFixed(1)} s, ${num(p.requests)} requests (${JSON.stringify(p.byKind)})`,
    );
    await emu.setFaults([]);
    const label = `${n / 1000}k ch`;
    const raw = {
      channels: n,
      live: n / 10,
      disabled: n / 5,
      latencyMs: LATENCY_MS,
      concurrency: CONCURRENCY,
      ours: o,
      peer: p,
    };
    return [
      {
        name: `poll ${label}: req / enabled channel`,
        ours: num(o.enabled, 2),
        peer: `ali-oss ${num(p.enabled, 2)}`,
        ratio: times(o.enabled, p.enabled),
        target: '≤ 1.0',
        met: o.enabled <= 1.0,
        raw,
      },
      {
        name: `poll ${label}: req / disabled channel`,
        ours: num(o.disabled, 2),
        peer: `ali-oss ${num(p.disabled, 2)}`,
        target: '0',
        met: o.disabled === 0,
      },
      {
        name: `poll ${label}: tick wall (20 ms lat, c=8)`,
        ours: `${num(o.wallMs / 1000, 1)} s`,
        peer: `ideal ${num(o.idealMs / 1000, 1)} s; ali-oss ${num(p.wallMs / 1000, 1)} s`,
        ratio: `${num(o.wallMs / o.idealMs, 2)} × ideal`,
        target: '≤ 1.25 × ideal',
        met: o.wallMs <= 1.25 * o.idealMs,
      },
      {
        name: `poll ${label}: total requests / tick`,
        ours: num(o.requests),
        peer: `ali-oss ${num(p.requests)}`,
        ratio: times(o.requests, p.requests),
        target: '(context)',
      },
    ];
  } finally {
    await emu.stop();
  }
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of quick ? [1000] : [1000, 10_000]) rows.push(...(await runSize(n, progress)));
  return rows;
}

export const pollTick: BenchSection = { name: 'poll-tick', title: 'poll tick', run };
