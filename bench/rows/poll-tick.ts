import type { BenchSection, Row } from '../lib/types';

async function run(): Promise<Row[]> {
  return [{ name: 'poll tick', target: '', notMeasured: 'not written yet' }];
}

export const pollTick: BenchSection = { name: 'poll-tick', title: 'poll tick', run };
