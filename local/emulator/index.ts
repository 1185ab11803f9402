import { randomBytes } from 'node:crypto';
import { ControlledClock } from '../../shared/clock';
import { createLogger, registerSecret, type Logger } from '../../shared/log';
import { isValidBucketName } from './addressing';
import { coreAdminRoutes } from './admin';
import { Authenticator, Credentials } from './auth';
import { FaultInjector, type FaultRule } from './faults';
import { createLiveChannelService } from './live';
import { objectOperations } from './ops';
import { EmulatorServer } from './server';
import { RtmpIngestServer } from './rtmp/server';
import type { PublishHooks } from './rtmp/publish';
import { openStorage } from './storage';
import { StsIssuer, type StsCredentials } from './sts';
import { InMemoryTopicHub } from './topics';
import type { EmuContext, IngestControl } from './types';

export interface AccessKey {
  id: string;
  secret: string;
}

export interface StartEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Persist objects and state here; memory when absent. */
  dataDir?: string;
  buckets?: string[];
  accessKeys?: AccessKey[];
  region?: string;
  /** The emulator's one clock; a real-time ControlledClock when absent. */
  clock?: ControlledClock;
  /** Seed of the fault-injection PRNG. */
  seed?: number;
  faults?: FaultRule[];
  /** Buckets anonymous callers may read (GetObject, HeadObject, listings). */
  publicReadBuckets?: string[];
  /** Run the RTMP ingest on this port (0 picks a free one); no RTMP server when absent. */
  rtmpPort?: number;
  /** Instrumentation of the RTMP ingest (the bench measures fragment lateness with it). */
  rtmpHooks?: PublishHooks;
  /** Largest request body accepted; default 256 MiB (OSS's own limit, 5 GiB, is not held in memory). */
  maxBodyBytes?: number;
  logger?: Logger;
  /** Who holds `dataDir`, as a second process on it is told; default `livecycle emulator`. */
  program?: string;
  /** PostVodPlaylist on a disabled channel: 409 LiveChannelDisabled instead of building (UNCONFIRMED; default off). */
  refuseVodWhenDisabled?: boolean;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`: give this to clients (path style). */
  url: string;
  /** `127.0.0.1:<port>`: the host part, as in Publish/Play URLs. */
  endpoint: string;
  /** `rtmp://127.0.0.1:<port>` when the RTMP ingest runs: the origin of publish URLs (`/live/<channel>?…`). */
  rtmpOrigin?: string;
  region: string;
  clock: ControlledClock;
  accessKeys: AccessKey[];
  mintSts(opts: { ttlSeconds: number }): StsCredentials;
  /**
   * The secret of a static key, or of an STS key with its live token; undefined otherwise (the local FC API verifies
   * with it).
   */
  secretFor(accessKeyId: string, securityToken?: string): string | undefined;
  ingest: IngestControl;
  topics: InMemoryTopicHub;
  faults: FaultInjector;
  stop(): Promise<void>;
}

export const DEFAULT_BUCKET = 'livecycle-demo';
export const DEFAULT_ACCESS_KEY: AccessKey = { id: 'livecycle-local-id', secret: 'livecycle-local-secret' };
export const DEFAULT_REGION = 'cn-hangzhou';
/** The standard RTMP port, as OSS ingest uses. */
export const DEFAULT_RTMP_PORT = 1935;

/** What `livecycle emulator` and `livecycle start` print about the RTMP ingest (OBS splits the publish URL). */
export function rtmpLines(rtmpOrigin: string): string[] {
  return [
    `rtmp:     ${rtmpOrigin}/live  (publish URLs: ${rtmpOrigin}/live/<channel>?<signed query>)`,
    `          OBS: Server ${rtmpOrigin}/live, Stream Key <channel>?<signed query> (the publish URL after /live/)`,
  ];
}
const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

/** Per-instance STS signing key, kept in the state store so tokens survive a restart on the same data dir. */
async function stsKey(ctx: Pick<EmuContext, 'state'>): Promise<Buffer> {
  const stored = await ctx.state.get<string>('emulator', 'sts-key');
  if (stored) return Buffer.from(stored, 'hex');
  const key = randomBytes(32);
  await ctx.state.put('emulator', 'sts-key', key.toString('hex'));
  return key;
}

export async function startEmulator(opts: StartEmulatorOptions = {}): Promise<Emulator> {
  const buckets = opts.buckets ?? [DEFAULT_BUCKET];
  for (const bucket of buckets) if (!isValidBucketName(bucket)) throw new RangeError(`invalid bucket name: ${bucket}`);
  const accessKeys = opts.accessKeys ?? [DEFAULT_ACCESS_KEY];
  for (const key of accessKeys) registerSecret(key.secret);
  const region = opts.region ?? DEFAULT_REGION;
  const clock = opts.clock ?? new ControlledClock();
  const log = opts.logger ?? createLogger({ name: 'emulator' });

  const storage = await openStorage(opts.dataDir, buckets, {
    program: opts.program ?? 'livecycle emulator',
    onTakeover: (message) => log.warn({ dataDir: opts.dataDir }, message),
  });
  const topics = new InMemoryTopicHub(clock, log);
  const sts = new StsIssuer(
    await stsKey(storage).catch(async (err: unknown) => {
      await storage.close(); // frees the data-directory lock
      throw err;
    }),
    clock,
  );
  const credentials = new Credentials(new Map(accessKeys.map((k) => [k.id, k.secret])), sts);
  const ctx: EmuContext = {
    clock,
    objects: storage.objects,
    state: storage.state,
    topics,
    region,
    buckets: new Set(buckets),
    secretFor: (accessKeyId, securityToken) => credentials.trySecret(accessKeyId, securityToken),
  };
  const live = createLiveChannelService(ctx, { refuseVodWhenDisabled: opts.refuseVodWhenDisabled });
  const faults = new FaultInjector(opts.seed ?? 0);
  if (opts.faults) faults.set(opts.faults);
  const server = new EmulatorServer({
    ctx,
    auth: new Authenticator(credentials, clock, region),
    operations: [...live.operations, ...objectOperations],
    adminRoutes: [
      ...coreAdminRoutes({ clock, faults, sts, topics, buckets: ctx.buckets, region }),
      ...live.adminRoutes,
    ],
    faults,
    log,
    publicReadBuckets: new Set(opts.publicReadBuckets ?? []),
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  let port: number;
  const host = opts.host ?? '127.0.0.1';
  const rtmp =
    opts.rtmpPort === undefined
      ? undefined
      : new RtmpIngestServer({ ctx, ingest: live.ingest, log, hooks: opts.rtmpHooks });
  let rtmpPort: number | undefined;
  try {
    port = await server.listen(opts.port ?? 0, host);
    if (rtmp) rtmpPort = await rtmp.listen(opts.rtmpPort!, host);
    await storage.announce({ emulator: `http://${host}:${port}` });
  } catch (err) {
    await server.close();
    await live.close();
    await storage.close();
    throw err;
  }
  const endpoint = `${host}:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${endpoint}`,
    endpoint,
    ...(rtmpPort === undefined ? {} : { rtmpOrigin: `rtmp://${host.includes(':') ? `[${host}]` : host}:${rtmpPort}` }),
    region,
    clock,
    accessKeys: accessKeys.map((k) => ({ ...k })),
    mintSts: ({ ttlSeconds }) => {
      const creds = sts.mint(ttlSeconds);
      registerSecret(creds.accessKeySecret);
      registerSecret(creds.securityToken);
      return creds;
    },
    secretFor: (accessKeyId, securityToken) => credentials.trySecret(accessKeyId, securityToken),
    ingest: live.ingest,
    topics,
    faults,
    stop: () =>
      (stopped ??= (async () => {
        const rtmpClosed = rtmp?.stopAccepting();
        await server.close();
        // Ends every push, real publishers included (their last fragment stored, then dropped).
        await live.close();
        rtmp?.disconnectAll();
        await rtmpClosed;
        await topics.idle();
        await storage.close();
      })()),
  };
}

export type { FaultRule, FaultKind } from './faults';
export type { StsCredentials } from './sts';
