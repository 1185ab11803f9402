import type { BenchSection, Row } from '../lib/types';

/**
 * Row 7 (not built yet): emulator seconds from push stop to the `vod.ready` webhook on the
 * accelerated clock, against RECONNECT_WINDOW + the poll interval from s.yaml's cron.
 */
async function run(): Promise<Row[]> {
  return [
    {
      name: 'lifecycle: push stop → vod.ready',
      target: '≤ reconnect window (60 s) + poll interval (60 s)',
      notMeasured: 'not built within the bench time box (needs the local runtime + webhook receiver on the accelerated clock; generate-vod and poll-stat are in the tree now)',
    },
  ];
}

export const lifecycleLatency: BenchSection = { name: 'lifecycle', title: 'lifecycle latency', run };
