/**
 * Row 11: the console's channel list over 5,000 channels (quick: 1,000), 10 % live, 20 %
 * disabled, after one poll tick (so poll-stat's per-shard state exists, as in steady state).
 * Ours: what GET /console/api/channels does (shared/console `ChannelList.page`: a page of 25 rows
 * with their cost per month) — unfiltered, `state=live`, and a name filter — in process against
 * the emulator (no added latency), with the requests counted at the emulator. Like the page, each
 * query refreshes REFRESHES times, the next one 2 s (injected clock) after the answer, on one warm
 * instance whose first refresh is cold. There is no peer: the figures to judge are a refresh's
 * time against the page's 2 s refresh, and requests per refresh, which grow with the bucket only
 * through the bulk listings, paid once per LIST_FRESH_MS.
 */
import { loadavg } from 'node:os';
import { BUCKET, spawnEmulator } from '../lib/emulator';
import { ourClient } from '../lib/clients';
import { benchInstance, pollStatTick } from '../lib/poll';
import { median, ms, num, pool } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const REFRESHES = 10;
const PAGE = 25;
const REFRESH_MS = 2000;
/** A refresh should take at most half the refresh period, so the page never falls behind. */
const TARGET_MS = REFRESH_MS / 2;

function channelName(i: number): string {
  return `ch-${String(i).padStart(6, '0')}`;
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const n = quick ? 1000 : 5000;
  const emu = await spawnEmulator();
  try {
    const client = ourClient(emu, 32);
    const b = client.bucket(BUCKET);
    await pool(n, 32, async (i) => {
      await b.putLiveChannel(channelName(i), { status: i % 10 === 1 || i % 10 === 2 ? 'disabled' : 'enabled' });
    });
    await pool(n, 16, async (i) => {
      if (i % 10 === 0) await emu.admin('POST', '/ingest/start', { bucket: BUCKET, channel: channelName(i) });
    });
    await (
      await pollStatTick(emu, { POLL_SHARD_SIZE: String(n + 1), RECONNECT_WINDOW: '60' })
    )();
    progress(`console list: ${num(n)} channels created, one poll tick done`);
    const { ControlledClock, installClock } = await import('../../shared/clock');
    const { createOperationContext } = await import('../../shared/operations/context');
    const { ChannelList } = await import('../../shared/console/data');
    const clock = new ControlledClock({ rate: 0 });
    installClock(clock);
    const instance = await benchInstance(emu, 'api', {});
    const rows: Row[] = [];
    const queries = [
      { label: 'all', query: {} },
      { label: 'state=live', query: { state: 'live' as const } },
      { label: 'name "00042"', query: { q: '00042' } },
    ];
    try {
      for (const { label, query } of queries) {
        const list = new ChannelList(60_000);
        const times: number[] = [];
        const requests: number[] = [];
        const loads: number[] = [];
        let total = 0;
        for (let r = 0; r < REFRESHES; r++) {
          const op = createOperationContext(instance, {}, `bench-${r}`);
          await emu.counts(true);
          loads.push(loadavg()[0]!);
          const t0 = performance.now();
          const page = await list.page(op.bucket(BUCKET), op, { ...query, limit: PAGE });
          const took = performance.now() - t0;
          times.push(took);
          requests.push((await emu.counts(true)).total);
          total = page.total;
          // The page asks again 2 s after each answer.
          await clock.advance(Math.ceil(took) + REFRESH_MS);
        }
        // Refreshes that read (the first, and each after LIST_FRESH_MS) and those that reuse the reads.
        const reading = times.filter((_, i) => requests[i]! > 0);
        const readingRequests = requests.filter((q) => q > 0);
        const reused = times.filter((_, i) => requests[i] === 0);
        const med = median(reading);
        const load = median(loads);
        const range = (values: number[], fmt: (v: number) => string) =>
          `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
        progress(
          `console list ${label}: requests per refresh ${requests.join(' ')}, reading ${ms(med)} median, load ${load.toFixed(1)}`,
        );
        rows.push({
          name: `console list ${num(n)} ch, ${label}`,
          ours:
            `${reading.length} reading: ${range(reading, ms)}, ${range(readingRequests, num)} req; ` +
            `${reused.length} reusing: ${reused.length ? ms(median(reused)) : '–'}, 0 req; load ${load.toFixed(1)}`,
          peer: `${num(total)} matching, page of ${PAGE}, ${REFRESHES} refreshes`,
          ratio: `${Math.round((med / REFRESH_MS) * 100)} % of the 2 s refresh`,
          target: `reading < ${ms(TARGET_MS)} median`,
          met: med < TARGET_MS,
          raw: { channels: n, label, times, requests, loadavg: loads, matching: total },
        });
      }
    } finally {
      installClock(undefined);
    }
    await client.close();
    await instance.oss.close();
    return rows;
  } finally {
    await emu.stop();
  }
}

export const consoleList: BenchSection = {
  name: 'console-list',
  title: 'console channel list (server-side filter and page)',
  run,
};
