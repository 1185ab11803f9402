/**
 * `livecycle channels`: a table of a bucket's LiveChannels — configured status and push state
 * from OSS, last broadcast and VOD count from the ledger — for the running local stack or, with
 * --endpoint, any OSS endpoint.
 */
import { join } from 'node:path';
import { installClock } from '../../shared/clock';
import { DEFAULT_LEDGER_PREFIX, Ledger } from '../../shared/ledger';
import { groupBroadcasts, mergePushes, type Push } from '../../shared/lifecycle';
import { pushOf } from '../../shared/operations/broadcasts';
import { OssClient, envCredentials, staticCredentials, type OssBucket } from '../../shared/oss';
import { parseCommandLine, parseOptions, UsageError } from './args';
import { attachToStack } from '../stack';
import type { Command } from './types';

const USAGE = `Usage: livecycle channels [options]

Lists the LiveChannels of a bucket: name, status (enabled/disabled and Live/Idle), last
broadcast and number of ready VODs. Status comes from OSS, broadcasts and VODs from the ledger
(OSS's own History when the ledger has no push yet).

Options:
  --data DIR         data directory of a running \`livecycle start\` (default .data): its emulator
  --endpoint URL     an OSS endpoint instead (e.g. oss-cn-hangzhou.aliyuncs.com), with credentials
                     from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
                     (/ ALIBABA_CLOUD_SECURITY_TOKEN); needs --bucket
  --bucket NAME      the bucket (default: the stack's first bucket)
  --region REGION    V4 signing region with --endpoint (default: derived from the endpoint)
  --ledger-prefix P  ledger prefix in the bucket (default ${DEFAULT_LEDGER_PREFIX})
  --json             one JSON object per channel instead of the table
  --help             show this text

Exit codes: 0 listed, 1 OSS or the stack failed, 2 usage error.`;

export interface ChannelRow {
  name: string;
  status: string;
  live: string;
  /** ISO times; end absent while live or unknown. */
  lastBroadcast: { startedAt: string; endedAt: string | null; pushes: number } | null;
  vods: number;
}

async function lastBroadcast(bucket: OssBucket, ledger: Ledger, channel: string): Promise<ChannelRow['lastBroadcast']> {
  let pushes: Push[] = (await ledger.listPushes(channel)).map(pushOf);
  if (pushes.length === 0)
    pushes = (await bucket.getLiveChannelHistory(channel)).map((r) => ({ ...r, source: 'history' as const }));
  const last = groupBroadcasts(mergePushes(pushes)).at(-1);
  if (!last) return null;
  return {
    startedAt: new Date(last.firstStart).toISOString(),
    endedAt: last.lastEnd === undefined ? null : new Date(last.lastEnd).toISOString(),
    pushes: last.pushes.length,
  };
}

export async function listChannelRows(bucket: OssBucket, ledger: Ledger): Promise<ChannelRow[]> {
  const rows: ChannelRow[] = [];
  for await (const channel of bucket.iterateLiveChannels({})) {
    const [stat, broadcast, vods] = await Promise.all([
      bucket.getLiveChannelStat(channel.name),
      lastBroadcast(bucket, ledger, channel.name),
      ledger.listVods(channel.name),
    ]);
    rows.push({
      name: channel.name,
      status: channel.status,
      live: stat.status,
      lastBroadcast: broadcast,
      vods: vods.filter((v) => v.status === 'ready').length,
    });
  }
  return rows;
}

/** `2024-05-01 12:00:30Z, 1m15s (2 pushes)`; without an end it is on air, or poll-stat has not seen it end yet. */
function describeBroadcast(b: ChannelRow['lastBroadcast'], live: string): string {
  if (!b) return '-';
  const start = `${b.startedAt.slice(0, 10)} ${b.startedAt.slice(11, 19)}Z`;
  const pushes = b.pushes > 1 ? ` (${b.pushes} pushes)` : '';
  if (b.endedAt === null) return `${start}, ${live === 'Live' ? 'on air' : 'end not recorded yet'}${pushes}`;
  const s = Math.round((Date.parse(b.endedAt) - Date.parse(b.startedAt)) / 1000);
  const duration =
    s >= 3600
      ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${s % 60}s`
        : `${s}s`;
  return `${start}, ${duration}${pushes}`;
}

export function formatChannelTable(rows: readonly ChannelRow[]): string {
  const table = [
    ['NAME', 'STATUS', 'LAST BROADCAST', 'VODS'],
    ...rows.map((r) => [r.name, `${r.status}, ${r.live}`, describeBroadcast(r.lastBroadcast, r.live), String(r.vods)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

function parse(argv: string[]) {
  const { values } = parseOptions(argv, {
    options: {
      data: { type: 'string' },
      endpoint: { type: 'string' },
      bucket: { type: 'string' },
      region: { type: 'string' },
      'ledger-prefix': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.endpoint !== undefined && values.data !== undefined)
    throw new UsageError('give --data (a local stack) or --endpoint (any OSS), not both');
  if (values.endpoint !== undefined && values.bucket === undefined) throw new UsageError('--endpoint needs --bucket');
  if (values.region !== undefined && values.endpoint === undefined)
    throw new UsageError('--region only applies with --endpoint');
  return values;
}

/** The bucket to list: the running stack's (STS keys from its emulator) or --endpoint's (keys from the environment). */
async function openBucket(values: ReturnType<typeof parse>): Promise<OssBucket> {
  if (values.endpoint !== undefined) {
    const credentials = envCredentials(process.env);
    const client = new OssClient({
      endpoint: values.endpoint,
      region: values.region,
      pathStyle: /^https?:\/\/\d+\.\d+\.\d+\.\d+/.test(values.endpoint),
      credentials,
    });
    return client.bucket(values.bucket!);
  }
  const dataDir = values.data ?? join(process.cwd(), '.data');
  const attached = await attachToStack(dataDir);
  if (!attached)
    throw new Error(
      `no running stack in ${dataDir}: start one with \`npm start\` (or \`livecycle start\`), or use --endpoint`,
    );
  const { stack, credentials, clock } = attached;
  // Requests are signed with the time of the clock installed here: the stack's, which may be far from the real one.
  installClock(clock);
  const bucket = values.bucket ?? stack.buckets[0];
  if (!bucket || !stack.buckets.includes(bucket))
    throw new UsageError(`the stack serves ${stack.buckets.join(', ')}, not ${bucket}`);
  return new OssClient({
    endpoint: stack.emulatorUrl,
    region: stack.region,
    pathStyle: true,
    credentials: staticCredentials(credentials),
  }).bucket(bucket);
}

export const channelsCommand: Command = {
  name: 'channels',
  summary: "table of a bucket's channels: status, live, last broadcast, VODs",
  usage: USAGE,
  async run(argv) {
    const values = parseCommandLine(channelsCommand, () => parse(argv));
    if (values === undefined) return 2;
    try {
      const bucket = await openBucket(values);
      const rows = await listChannelRows(bucket, new Ledger(bucket, values['ledger-prefix'] ?? DEFAULT_LEDGER_PREFIX));
      if (values.json) for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
      else process.stdout.write(rows.length ? `${formatChannelTable(rows)}\n` : `no channels in ${bucket.name}\n`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`livecycle channels: ${err.message}\n`);
        return 2;
      }
      process.stderr.write(`livecycle channels: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
