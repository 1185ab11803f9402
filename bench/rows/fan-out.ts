import type { BenchSection, Row } from '../lib/types';

async function run(): Promise<Row[]> {
  return [{ name: 'poll fan-out', target: '', notMeasured: 'not written yet' }];
}

export const fanOut: BenchSection = { name: 'fan-out', title: 'poll fan-out', run };
