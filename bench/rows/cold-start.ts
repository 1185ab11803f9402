/**
 * Row 4: cold start of every built function bundle, dist/<fn>/index.js (npm run bench builds
 * them first): median require time over fresh processes, bundle size, and whether
 * @alicloud/fc2 is loaded at require time (it must not be: only the async-invoke path needs it,
 * and build.mjs marks it external so a lazy require() is what keeps it off the cold path).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from '../lib/emulator';
import { loadTimes } from '../lib/load';
import { bytes, ms } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const require = createRequire(import.meta.url);

function functionNames(): string[] {
  const { functionsInSYaml } = require(join(ROOT, 'scripts', 'build.mjs')) as { functionsInSYaml(): string[] };
  return functionsInSYaml();
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  let names: string[];
  try {
    names = functionNames();
  } catch {
    // build.mjs is ESM; read s.yaml ourselves when require() of it is refused.
    const { parse } = require('yaml') as { parse(text: string): { resources?: Record<string, { props?: { code?: string } }> } };
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const doc = parse(readFileSync(join(ROOT, 's.yaml'), 'utf8'));
    names = Object.values(doc.resources ?? {}).map((r) => String(r.props?.code ?? '').replace('./dist/', ''));
  }
  const bundles = Object.fromEntries(names.map((n) => [n, join(ROOT, 'dist', n, 'index.js')]));
  const missing = names.filter((n) => !existsSync(bundles[n]!) || !existsSync(join(ROOT, 'functions', n, 'index.ts')));
  const rows: Row[] = [];
  for (const n of missing) rows.push({ name: `cold start dist/${n}`, target: '≤ 30 ms', notMeasured: `functions/${n}/index.ts is not in the tree yet, so there is no bundle to load` });
  const present = names.filter((n) => !missing.includes(n));
  if (!present.length) return rows;
  const runs = quick ? 10 : 12;
  progress(`cold start: ${present.length} bundles × ${runs} fresh processes`);
  const t = await loadTimes(Object.fromEntries(present.map((n) => [n, bundles[n]!])), runs);
  for (const n of present) {
    const size = (await stat(bundles[n]!)).size;
    const r = t[n]!;
    rows.unshift({
      name: `cold start dist/${n}`,
      ours: ms(r.medianMs),
      peer: `${bytes(size)}${r.fc2 ? ', loads fc2!' : ', no fc2'}`,
      target: '≤ 30 ms, fc2 not loaded',
      met: r.medianMs <= 30 && !r.fc2,
      raw: { bundleBytes: size, ...r },
    });
  }
  return rows;
}

export const coldStart: BenchSection = { name: 'cold-start', title: 'cold start of every function bundle', run };
