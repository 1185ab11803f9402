/** A real emulator and a real OSS client for ledger and webhook tests. */
import type { ControlledClock } from '../../shared/clock';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET, startEmulator, type Emulator } from '../../local/emulator';

export interface LedgerEnv {
  emu: Emulator;
  client: OssClient;
  bucket: OssBucket;
  stop(): Promise<void>;
}

/** Pass the clock the test installs, so request signing and the emulator agree on the time. */
export async function startLedgerEnv(opts: { clock?: ControlledClock } = {}): Promise<LedgerEnv> {
  const emu = await startEmulator({ port: 0, buckets: [DEFAULT_BUCKET], clock: opts.clock });
  const client = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret }),
  });
  return {
    emu,
    client,
    bucket: client.bucket(DEFAULT_BUCKET),
    async stop() {
      await client.close();
      await emu.stop();
    },
  };
}

/** Every key under a prefix, read straight from the bucket. */
export async function keysUnder(bucket: OssBucket, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of bucket.iterateObjects({ prefix })) out.push(o.key);
  return out;
}
