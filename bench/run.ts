/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>…]]`: runs the sections below in order,
 * prints one fixed-width table on stdout (progress goes to stderr) and writes
 * bench/results/latest.json. Benchmarks, not tests: nothing here fails the build.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/emulator';
import type { BenchSection, Row } from './lib/types';
import { signer } from './rows/signer';
import { clientLoad } from './rows/client-load';
import { emulatorLimits } from './rows/emulator-limits';
import { coldStart } from './rows/cold-start';
import { pollTick } from './rows/poll-tick';
import { pollSchedule } from './rows/poll-schedule';
import { cleanup } from './rows/cleanup';
import { lifecycleLatency } from './rows/lifecycle';
import { fanOut } from './rows/fan-out';
import { rtmpIngest } from './rows/rtmp-ingest';
import { consoleList } from './rows/console-list';

const SECTIONS: BenchSection[] = [
  signer,
  clientLoad,
  emulatorLimits,
  coldStart,
  pollTick,
  pollSchedule,
  cleanup,
  lifecycleLatency,
  fanOut,
  rtmpIngest,
  consoleList,
];

function parseArgs(argv: string[]): { quick: boolean; huge: boolean; only?: Set<string> } {
  const quick = argv.includes('--quick');
  const huge = argv.includes('--huge');
  const i = argv.indexOf('--only');
  let only: Set<string> | undefined;
  if (i >= 0) {
    const value = argv[i + 1];
    if (!value) throw new Error(`--only needs a section name: ${SECTIONS.map((s) => s.name).join(', ')}`);
    only = new Set(value.split(','));
    for (const name of only)
      if (!SECTIONS.some((s) => s.name === name))
        throw new Error(`unknown section "${name}"; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  }
  return { quick, huge, only };
}

const COLUMNS: { title: string; get(r: Row): string }[] = [
  { title: 'benchmark', get: (r) => r.name },
  { title: 'ours', get: (r) => r.ours ?? '—' },
  { title: 'peer / limit (same run)', get: (r) => r.peer ?? '—' },
  { title: 'ratio', get: (r) => r.ratio ?? '—' },
  { title: 'target', get: (r) => r.target },
  {
    title: 'met',
    get: (r) => (r.notMeasured ? 'not measured' : r.met === undefined ? '—' : r.met ? 'met' : 'NOT met'),
  },
];

export function renderTable(rows: Row[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => c.get(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  const out = [line(COLUMNS.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('-+-')];
  for (const row of cells) out.push(line(row));
  const notes = rows.filter((r) => r.notMeasured).map((r) => `not measured: ${r.name}: ${r.notMeasured}`);
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

async function main(): Promise<void> {
  const { quick, huge, only } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const progress = (message: string) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
  const rows: Row[] = [];
  const sections: Record<string, { seconds: number; error?: string }> = {};
  const loadBefore = loadavg();
  for (const section of SECTIONS) {
    if (only && !only.has(section.name)) continue;
    const t0 = Date.now();
    progress(`${section.name}: ${section.title}${quick ? ' (quick)' : ''}`);
    try {
      rows.push(...(await section.run({ quick, huge, progress })));
      sections[section.name] = { seconds: (Date.now() - t0) / 1000 };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      progress(`${section.name} failed: ${err instanceof Error ? err.stack : message}`);
      rows.push({ name: section.title, target: '', notMeasured: `the run failed: ${message.split('\n')[0]}` });
      sections[section.name] = { seconds: (Date.now() - t0) / 1000, error: message };
    }
  }
  const table = renderTable(rows);
  process.stdout.write(
    `\nlivecycle bench${quick ? ' (--quick)' : ''} — medians of repeated runs; ratios from the same run\n\n${table}\n`,
  );
  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const result = {
    when: new Date().toISOString(),
    quick,
    huge,
    only: only ? [...only] : undefined,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
    seconds: (Date.now() - started) / 1000,
    sections,
    rows,
    table,
  };
  await writeFile(join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  progress(`wrote bench/results/latest.json in ${result.seconds.toFixed(0)} s total`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
