/**
 * Row 11: the console's channel list over 5,000 channels (quick: 1,000), 10 % live, 20 %
 * disabled, after one poll tick (so poll-stat's per-shard state exists, as in steady state).
 * Ours: shared/console `listChannelRows` for a page of 25 rows — unfiltered, `state=live`, and a
 * name filter — in process against the emulator (no added latency), median of 5 runs, with the
 * requests counted at the emulator. There is no peer: the figure to judge is the time a page
 * takes against the page's 2 s refresh, and that requests grow with the page, not the bucket.
 */
import { BUCKET, spawnEmulator } from '../lib/emulator';
import { ourClient } from '../lib/clients';
import { benchInstance, pollStatTick } from '../lib/poll';
import { median, ms, num, pool } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const RUNS = 5;
const PAGE = 25;
const REFRESH_MS = 2000;

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
    const { createOperationContext } = await import('../../shared/operations/context');
    const { listChannelRows } = await import('../../shared/console/data');
    const instance = await benchInstance(emu, 'api', {});
    const rows: Row[] = [];
    const queries = [
      { label: 'all', query: {} },
      { label: 'state=live', query: { state: 'live' as const } },
      { label: 'name "00042"', query: { q: '00042' } },
    ];
    for (const { label, query } of queries) {
      const times: number[] = [];
      let requests = 0;
      let total = 0;
      for (let r = 0; r < RUNS; r++) {
        const op = createOperationContext(instance, {}, `bench-${r}`);
        await emu.counts(true);
        const t0 = performance.now();
        const page = await listChannelRows(op.bucket(BUCKET), { ...query, limit: PAGE }, op.clock.now(), 60_000);
        times.push(performance.now() - t0);
        requests = (await emu.counts(true)).total;
        total = page.total;
      }
      const med = median(times);
      progress(`console list ${label}: ${ms(med)} median, ${num(requests)} requests, ${num(total)} matching`);
      rows.push({
        name: `console list ${num(n)} ch, ${label}`,
        ours: `${ms(med)} (${ms(Math.min(...times))}–${ms(Math.max(...times))}); ${num(requests)} req`,
        peer: `${num(total)} matching, page of ${PAGE}`,
        ratio: `${Math.round((med / REFRESH_MS) * 100)} % of the 2 s refresh`,
        target: '< the 2 s refresh',
        met: med < REFRESH_MS,
        raw: { channels: n, label, times, requests, matching: total },
      });
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
