import {
  startEmulator,
  rtmpLines,
  DEFAULT_RTMP_PORT,
  DEFAULT_ACCESS_KEY,
  DEFAULT_BUCKET,
  DEFAULT_REGION,
  type AccessKey,
  type FaultRule,
} from '../emulator';
import { isValidBucketName } from '../emulator/addressing';
import { ADMIN_HEADER, ADMIN_PREFIX } from '../emulator/admin-client';
import { parseFaultSpec } from '../emulator/faults';
import { MAX_PORT, parseCommandLine, parseOptions, UsageError, wholeNumberOption } from './args';
import type { Command } from './types';

const USAGE = `Usage: livecycle emulator [options]

Runs the local OSS + LiveChannel emulator until Ctrl-C.

Options:
  --port N                 port on 127.0.0.1 (default 9000; 0 picks a free one)
  --rtmp-port N            RTMP ingest port for ffmpeg/OBS (default ${DEFAULT_RTMP_PORT}; 0 picks a free one)
  --data DIR               persist objects and state in DIR (default: memory only)
  --bucket NAME            a bucket to serve; repeatable (default ${DEFAULT_BUCKET})
  --public-read            anyone may read the buckets without signing (GET/HEAD/list), so
                           players open \`livecycle play\` URLs; local use only
  --access-key ID:SECRET   an access key; repeatable (default ${DEFAULT_ACCESS_KEY.id}:<local secret>)
  --region REGION          V4 signing region (default ${DEFAULT_REGION})
  --fault OP:RATE:KIND[:MS]  inject faults; repeatable. OP is an operation name or *, RATE 0..1,
                           KIND one of 500, 503, reset, stall, truncate, latency
                           (MS: stall/latency duration), e.g. --fault '*:0.05:503'
  --seed N                 seed of the fault PRNG (default 0)
  --latency-ms N           add N ms of real latency to every request
  --refuse-vod-when-disabled  PostVodPlaylist on a disabled channel answers 409
                           LiveChannelDisabled (whether OSS does is unconfirmed; default: builds it)
  --help                   show this text

Admin API: <url>/_emulator/health, /clock, /sts, /faults, /ingest/... with the header
X-Livecycle-Emulator: 1, from this machine only (docs/emulator.md)`;

function accessKey(spec: string): AccessKey {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) throw new UsageError(`--access-key must be ID:SECRET`);
  return { id: spec.slice(0, colon), secret: spec.slice(colon + 1) };
}

function parse(argv: string[]) {
  const { values } = parseOptions(argv, {
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'rtmp-port': { type: 'string' },
      data: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      'public-read': { type: 'boolean' },
      'access-key': { type: 'string', multiple: true },
      region: { type: 'string' },
      fault: { type: 'string', multiple: true },
      seed: { type: 'string' },
      'latency-ms': { type: 'string' },
      'refuse-vod-when-disabled': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const buckets = values.bucket ?? [DEFAULT_BUCKET];
  for (const b of buckets)
    if (!isValidBucketName(b))
      throw new UsageError(
        `--bucket ${b}: 3-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit`,
      );
  const region = values.region ?? DEFAULT_REGION;
  if (!/^[a-z0-9-]+$/.test(region))
    throw new UsageError(`--region ${region}: expected a region id such as cn-hangzhou`);
  const faults: FaultRule[] = [];
  for (const spec of values.fault ?? []) {
    try {
      faults.push(parseFaultSpec(spec));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const latency = wholeNumberOption('latency-ms', values['latency-ms'], 600_000);
  if (latency) faults.push({ operation: '*', rate: 1, kind: 'latency', ms: latency });
  return {
    help: values.help ?? false,
    port: wholeNumberOption('port', values.port, MAX_PORT) ?? 9000,
    rtmpPort: wholeNumberOption('rtmp-port', values['rtmp-port'], MAX_PORT) ?? DEFAULT_RTMP_PORT,
    dataDir: values.data,
    buckets,
    publicRead: values['public-read'] ?? false,
    accessKeys: (values['access-key'] ?? []).map(accessKey),
    region,
    faults,
    seed: wholeNumberOption('seed', values.seed, 2 ** 32 - 1) ?? 0,
    refuseVodWhenDisabled: values['refuse-vod-when-disabled'] ?? false,
  };
}

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'run the local OSS/LiveChannel emulator',
  usage: USAGE,
  async run(argv) {
    const opts = parseCommandLine(emulatorCommand, () => parse(argv));
    if (opts === undefined) return 2;
    if (opts.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    let emu;
    try {
      emu = await startEmulator({
        port: opts.port,
        rtmpPort: opts.rtmpPort,
        dataDir: opts.dataDir,
        buckets: opts.buckets,
        publicReadBuckets: opts.publicRead ? opts.buckets : [],
        accessKeys: opts.accessKeys.length ? opts.accessKeys : undefined,
        region: opts.region,
        faults: opts.faults,
        seed: opts.seed,
        refuseVodWhenDisabled: opts.refuseVodWhenDisabled,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      process.stderr.write(
        `livecycle emulator: cannot start: ${code === 'EADDRINUSE' ? `a port is in use (${(err as Error).message}; try --port 0 --rtmp-port 0)` : (err as Error).message}\n`,
      );
      return 1;
    }
    // Listening before the banner: a signal sent on seeing it must stop the emulator (and free the lock).
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const lines = [
      `OSS emulator listening on ${emu.url} (region ${emu.region}, path-style addressing)`,
      `buckets: ${opts.buckets.join(', ')}${opts.publicRead ? ' (public-read)' : ''}${opts.dataDir ? `  data: ${opts.dataDir}` : '  (memory only)'}`,
      ...emu.accessKeys.map((k) => `access key: ${k.id} / ${k.secret}`),
      ...rtmpLines(emu.rtmpOrigin!),
      `admin: curl -H '${ADMIN_HEADER}: 1' ${emu.url}${ADMIN_PREFIX}/health`,
      ...(opts.faults.length ? [`faults (seed ${opts.seed}): ${JSON.stringify(opts.faults)}`] : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await stopRequested;
    await emu.stop();
    return 0;
  },
};
