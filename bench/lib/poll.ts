/** Our own functions, in process, pointed at a bench emulator (rows poll-tick, poll-schedule, console-list). */
import { BUCKET } from './constants';
import type { BenchEmulator } from './emulator';

/**
 * One poll-stat tick of our own code (in process, silent, no webhooks) against the emulator's
 * BUCKET, with `env` (the s.yaml defaults, POLL_SHARD_SIZE…) under those settings.
 */
export async function pollStatTick(
  emu: Pick<BenchEmulator, 'url' | 'region' | 'accessKey'>,
  env: Record<string, string>,
): Promise<() => Promise<unknown>> {
  const { createOperationContext } = await import('../../shared/operations/context');
  const { pollStat } = await import('../../shared/operations/poll-stat');
  const instance = await benchInstance(emu, 'poll-stat', env);
  return () =>
    pollStat(createOperationContext(instance, { function: { name: 'livecycle-poll-stat', timeout: 3600 } }), 'tick');
}

/** A function instance of our own code (silent, no webhooks) on the emulator's BUCKET, with `env` over it. */
export async function benchInstance(
  emu: Pick<BenchEmulator, 'url' | 'region' | 'accessKey'>,
  name: string,
  env: Record<string, string>,
) {
  const { createInstance } = await import('../../shared/operations/context');
  return createInstance(name, {
    ...env,
    OSS_ENDPOINT: emu.url,
    OSS_REGION: emu.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: BUCKET,
    ALIBABA_CLOUD_ACCESS_KEY_ID: emu.accessKey.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: emu.accessKey.secret,
    WEBHOOK_URL: '',
    LOG_LEVEL: 'silent',
  });
}
