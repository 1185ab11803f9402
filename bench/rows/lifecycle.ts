import type { BenchSection, Row } from '../lib/types';

async function run(): Promise<Row[]> {
  return [{ name: 'lifecycle latency', target: '', notMeasured: 'not written yet' }];
}

export const lifecycleLatency: BenchSection = { name: 'lifecycle', title: 'lifecycle latency', run };
