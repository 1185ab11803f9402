import type { BenchSection, Row } from '../lib/types';

async function run(): Promise<Row[]> {
  return [{ name: 'cleanup of orphaned fragments', target: '', notMeasured: 'not written yet' }];
}

export const cleanup: BenchSection = { name: 'cleanup', title: 'cleanup of orphaned fragments', run };
