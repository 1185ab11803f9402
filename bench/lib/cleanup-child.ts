/**
 * One cleanup run in its own process so its peak RSS (process.resourceUsage().maxRSS) is its
 * own. Modes:
 *   ours  — shared/cleanup cleanupOrphans() with the context cleanup-orphans builds
 *           (DRY_RUN=false, CLEANUP_CHANNEL_PREFIXES=gone-, budgets above the object count)
 *   limit — a bare ListObjectsV2 + DeleteMultipleObjects loop with our client: the emulator's
 *           own list+delete rate, nothing decided
 *   overlap — the bare loop with the next ListObjectsV2 sent while the current page's
 *           DeleteMultipleObjects runs (as ours overlaps them): the stricter limit
 *   peer  — the same bare loop with ali-oss (listV2 + deleteMulti, quiet)
 * Prints one JSON line: { deleted, wallMs, cpuMs, maxRssKiB, heapLimitMiB, killed }; cpuMs is the
 * process's user + system CPU over the pass.
 *
 * Limited as FC limits the function (bench/rows/cleanup.ts passes s.yaml's NODE_OPTIONS, so the
 * V8 heap limit is the deployed one): a cgroup-like watchdog samples RSS every 10 ms and kills
 * the process (exit 137, as the OOM killer would) once it exceeds BENCH_RSS_LIMIT_MIB, the
 * function's memorySize; the exact peak (maxRSS) is checked against it again at the end.
 */
import { getHeapStatistics } from 'node:v8';
import { aliOss, ourClient } from './clients';
import { BUCKET } from './constants';

type Mode = 'ours' | 'limit' | 'overlap' | 'peer';

interface Args {
  mode: Mode;
  url: string;
  region: string;
  accessKey: { id: string; secret: string };
  prefix: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
const MIB = 1024 * 1024;
const rssLimit = Number(process.env.BENCH_RSS_LIMIT_MIB) * MIB;

function kill(rss: number): never {
  process.stdout.write(
    JSON.stringify({
      deleted: 0,
      wallMs: 0,
      cpuMs: 0,
      maxRssKiB: Math.round(rss / 1024),
      heapLimitMiB: heapLimitMiB(),
      killed: true,
    }) + '\n',
  );
  process.exit(137);
}
const heapLimitMiB = () => Math.round(getHeapStatistics().heap_size_limit / MIB);
if (rssLimit > 0) {
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > rssLimit) kill(rss);
  }, 10).unref();
}

async function ours(): Promise<number> {
  const { createInstance, createOperationContext } = await import('../../shared/operations/context');
  const { cleanupOrphans } = await import('../../shared/cleanup');
  const env = {
    OSS_ENDPOINT: args.url,
    OSS_REGION: args.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: BUCKET,
    ALIBABA_CLOUD_ACCESS_KEY_ID: args.accessKey.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: args.accessKey.secret,
    DRY_RUN: 'false',
    // A missing channel's objects become orphans ORPHAN_GRACE after its absence is first seen;
    // 0 so the measured run deletes (the sighting itself is recorded by that same run).
    ORPHAN_GRACE: '0',
    CLEANUP_MAX_OBJECTS: '100000000',
    CLEANUP_MAX_BYTES: '1000000000000',
    CLEANUP_CHANNEL_PREFIXES: args.prefix,
    WEBHOOK_URL: '',
    LOG_LEVEL: 'silent',
  };
  process.env.CLEANUP_CHANNEL_PREFIXES = args.prefix;
  const instance = createInstance('cleanup-orphans', env);
  const outcomes = await cleanupOrphans(
    createOperationContext(instance, {
      requestId: 'bench-cleanup',
      function: { name: 'livecycle-cleanup-orphans', timeout: 86_400 },
    }),
  );
  let deleted = 0;
  for (const o of outcomes) if (o.status !== 'skipped') deleted += o.report.totals.deleted;
  process.stderr.write(
    `cleanup-child: ${JSON.stringify(outcomes.map((o) => (o.status === 'skipped' ? o : { status: o.status, stoppedBy: o.report.stoppedBy, totals: o.report.totals })))}\n`,
  );
  await instance.oss.close();
  return deleted;
}

async function limit(): Promise<number> {
  const client = ourClient(args);
  const b = client.bucket(BUCKET);
  let deleted = 0;
  for (;;) {
    const page = await b.listObjects({ prefix: args.prefix, maxKeys: 1000 });
    if (!page.objects.length) break;
    await b.deleteObjects(
      page.objects.map((o) => o.key),
      { quiet: true },
    );
    deleted += page.objects.length;
    if (!page.isTruncated) break;
  }
  await client.close();
  return deleted;
}

async function overlap(): Promise<number> {
  const client = ourClient(args);
  const b = client.bucket(BUCKET);
  let deleted = 0;
  let page = await b.listObjects({ prefix: args.prefix, maxKeys: 1000 });
  while (page.objects.length) {
    const token = page.isTruncated ? page.nextContinuationToken : undefined;
    const [next] = await Promise.all([
      token ? b.listObjects({ prefix: args.prefix, maxKeys: 1000, continuationToken: token }) : undefined,
      b.deleteObjects(
        page.objects.map((o) => o.key),
        { quiet: true },
      ),
    ]);
    deleted += page.objects.length;
    if (!next) break;
    page = next;
  }
  await client.close();
  return deleted;
}

async function peer(): Promise<number> {
  const client = aliOss(args);
  let deleted = 0;
  for (;;) {
    const page = await client.listV2({ prefix: args.prefix, 'max-keys': '1000' });
    const names = (page.objects ?? []).map((o) => o.name);
    if (!names.length) break;
    await client.deleteMulti(names, { quiet: true });
    deleted += names.length;
    if (!page.isTruncated) break;
  }
  return deleted;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deleted = await { ours, limit, overlap, peer }[args.mode]();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const maxRssKiB = process.resourceUsage().maxRSS;
  if (rssLimit > 0 && maxRssKiB * 1024 > rssLimit) kill(maxRssKiB * 1024);
  process.stdout.write(
    JSON.stringify({
      deleted,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKiB,
      heapLimitMiB: heapLimitMiB(),
      killed: false,
    }) + '\n',
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
