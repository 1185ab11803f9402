/** The deployed entry point: a timer event in, one cleanup run, a summary out. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/cleanup-orphans/index';
import { DEFAULT_ACCESS_KEY } from '../../local/emulator';
import { timerEvent } from '../../local/runtime/events';
import { HOUR, startCleanupEnv, T0, type CleanupEnv } from './helpers';

let env: CleanupEnv;
const saved = { ...process.env };
beforeAll(async () => {
  env = await startCleanupEnv();
  // functionHandler builds its instance from process.env, as on FC.
  Object.assign(process.env, {
    OSS_ENDPOINT: env.emu.url,
    OSS_REGION: env.emu.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: 'livecycle-demo',
    ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCESS_KEY.secret,
    LOG_LEVEL: 'silent',
    CLEANUP_CHANNEL_PREFIXES: 'cam-',
  });
});
afterAll(async () => {
  process.env = saved;
  await env.stop();
});

describe('cleanup-orphans handler', () => {
  it('runs on a timer event in dry-run mode by default and answers with a summary per bucket', async () => {
    await env.bucket.putObject('cam-x/0000000000001.ts', Buffer.alloc(188, 0x47));
    await env.ledger.recordTombstone({ channel: 'cam-x', generation: T0 - HOUR, deletedAt: T0 });
    await env.emu.clock.advance(25 * HOUR);
    const result = await handler(timerEvent('hourly', env.emu.clock.now(), undefined), {
      requestId: 'timer-1',
      function: { timeout: 900 },
    });
    expect(result).toEqual({
      buckets: [
        {
          bucket: 'livecycle-demo',
          status: 'complete',
          runId: 'timer-1',
          dryRun: true,
          stoppedBy: null,
          totals: expect.objectContaining({ candidates: 1, deleted: 0 }),
        },
      ],
    });
    // Dry run: still there.
    expect((await env.bucket.headObject('cam-x/0000000000001.ts')).contentLength).toBe(188);
    expect(await env.ledger.latestCleanupReport()).toMatchObject({
      runId: 'timer-1',
      keys: { listed: ['cam-x/0000000000001.ts'], count: 1 },
    });
  });
});
