/** An emulator, a client and the very OperationContext the deployed function builds. */
import * as HLS from 'hls-parser';
import { ControlledClock, installClock, type Clock } from '../../shared/clock';
import { Ledger } from '../../shared/ledger';
import { createLogger } from '../../shared/log';
import {
  createInstance,
  createOperationContext,
  mapConcurrent,
  type OperationContext,
} from '../../shared/operations/context';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET, startEmulator, type Emulator } from '../../local/emulator';

export const T0 = Date.UTC(2024, 4, 1, 12);
export const HOUR = 3_600_000;

export interface CleanupEnv {
  emu: Emulator;
  client: OssClient;
  bucket: OssBucket;
  ledger: Ledger;
  /** A context as FC would give the function, with these environment overrides. */
  context(env?: Record<string, string>, opts?: { requestId?: string; timeoutSeconds?: number }): OperationContext;
  stop(): Promise<void>;
}

let contexts = 0;

export async function startCleanupEnv(): Promise<CleanupEnv> {
  const clock = new ControlledClock({ startMs: T0, rate: 0 });
  installClock(clock);
  const emu = await startEmulator({
    port: 0,
    buckets: [DEFAULT_BUCKET],
    clock,
    logger: createLogger({ name: 'emulator-test', level: 'silent' }),
  });
  const client = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret }),
  });
  const bucket = client.bucket(DEFAULT_BUCKET);
  const instances: { close(): Promise<void> }[] = [];
  return {
    emu,
    client,
    bucket,
    ledger: new Ledger(bucket),
    context(env = {}, opts = {}) {
      const instance = createInstance('cleanup-orphans', {
        OSS_ENDPOINT: emu.url,
        OSS_REGION: emu.region,
        OSS_PATH_STYLE: 'true',
        BUCKETS: DEFAULT_BUCKET,
        ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY.id,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCESS_KEY.secret,
        LOG_LEVEL: 'silent',
        ...env,
      });
      instances.push(instance.oss);
      return createOperationContext(
        instance,
        { function: { timeout: opts.timeoutSeconds ?? 900 } },
        opts.requestId ?? `req-${++contexts}`,
      );
    },
    async stop() {
      await Promise.all(instances.map((i) => i.close()));
      await client.close();
      await emu.stop();
      installClock(undefined);
    },
  };
}

/** Every key in the bucket (straight listing). */
export async function allKeys(bucket: OssBucket, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of bucket.iterateObjects({ prefix })) out.push(o.key);
  return out;
}

/**
 * The keys a stored playlist lists, resolved the simple way ingest and PostVodPlaylist write
 * them (bare names in the playlist's folder), with hls-parser directly: an independent check of
 * what cleanup's marking must have kept.
 */
/**
 * Empties the bucket, sets the clock to T0, and writes `perFolder` tiny fragments `<folder>/<13 digits>.ts` per folder.
 */
export async function resetWithFragments(
  env: CleanupEnv,
  folders: readonly string[],
  perFolder: number,
): Promise<string[]> {
  await env.emu.clock.set(T0);
  for (const key of await allKeys(env.bucket)) await env.bucket.deleteObject(key);
  const keys = folders.flatMap((f) =>
    Array.from({ length: perFolder }, (_, i) => `${f}/${String(1_000_000 + i).padStart(13, '0')}.ts`),
  );
  await mapConcurrent(keys, 32, (key) => env.bucket.putObject(key, Buffer.alloc(188, 0x47)));
  return keys;
}

export async function playlistSegments(bucket: OssBucket, key: string): Promise<string[]> {
  const text = (await bucket.getObject(key)).body.toString('utf8');
  const playlist = HLS.parse(text) as HLS.types.MediaPlaylist;
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  return playlist.segments.map((s) => folder + s.uri);
}

/** A clock whose every reading is `stepMs` later than the one before (drives a deadline). */
export function steppingClock(base: Clock, stepMs: number): Clock {
  let steps = 0;
  return { now: () => base.now() + ++steps * stepMs };
}
