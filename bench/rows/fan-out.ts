import type { BenchSection, Row } from '../lib/types';

/**
 * Row 8 (not built yet): shard plan and total wall time of one poll over 100,000 channels
 * (quick: 10,000) on the local runtime, poll-stat fanning out by POLL_SHARD_SIZE.
 */
async function run(): Promise<Row[]> {
  return [
    {
      name: 'fan-out: 100k channels, shard plan + wall',
      target: '(report)',
      notMeasured: 'not built within the bench time box; poll-stat does fan out (shardRequests in shared/operations/poll-stat.ts: runs of POLL_SHARD_SIZE invoked async with {bucket, marker, limit})',
    },
  ];
}

export const fanOut: BenchSection = { name: 'fan-out', title: 'poll fan-out', run };
