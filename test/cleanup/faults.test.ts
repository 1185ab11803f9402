/**
 * Cleanup under OSS faults: a transient failure inside a folder ends that folder, not the run; a
 * run that throws anyway saves where it got to; a run killed between storing its report and
 * emitting cleanup.completed has the event emitted by the next run.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupOrphans, type CleanupRunReport } from '../../shared/cleanup';
import { compressBackoff, WebhookReceiver, WEBHOOK_SECRET } from '../reliability/harness';
import { allKeys, HOUR, startCleanupEnv, T0, type CleanupEnv } from './helpers';

const CHANNELS = ['cam-a', 'cam-b', 'cam-c', 'cam-d', 'cam-e', 'cam-f'];
const ORPHANS = 5;

let env: CleanupEnv;
let receiver: WebhookReceiver;
let restoreBackoff: () => void;
beforeAll(async () => {
  restoreBackoff = compressBackoff(50);
  receiver = await new WebhookReceiver().start();
});
afterAll(async () => {
  await receiver.stop();
  restoreBackoff();
});
beforeEach(async () => {
  env = await startCleanupEnv();
  for (const channel of CHANNELS) {
    for (let i = 0; i < ORPHANS; i++)
      await env.bucket.putObject(`${channel}/${String(1_000_000 + i).padStart(13, '0')}.ts`, Buffer.alloc(188, 0x47));
    await env.ledger.recordTombstone({ channel, generation: T0 - HOUR, deletedAt: T0 });
  }
  await env.emu.clock.advance(25 * HOUR);
});
afterEach(() => env.stop());

function real(env_: CleanupEnv, requestId: string) {
  return env_.context(
    { DRY_RUN: 'false', WEBHOOK_URL: receiver.url, WEBHOOK_SECRETS: WEBHOOK_SECRET },
    { requestId, timeoutSeconds: 60 },
  );
}

async function run(requestId: string): Promise<CleanupRunReport> {
  const [outcome] = await cleanupOrphans(real(env, requestId), { settings: { channelPrefixes: [] } });
  if (!outcome || outcome.status === 'skipped') throw new Error(`run skipped: ${JSON.stringify(outcome)}`);
  return outcome.report;
}

async function leftIn(channel: string): Promise<number> {
  return (await allKeys(env.bucket, `${channel}/`)).length;
}

function completedFor(runId: string): number {
  return receiver.deliveries.filter(
    (d) => d.type === 'cleanup.completed' && (JSON.parse(d.body) as { data: { runId: string } }).data.runId === runId,
  ).length;
}

describe('cleanup under OSS faults', () => {
  it('folders whose re-check fails are reported and skipped; the run completes the others and a later run the rest', async () => {
    // Every delete batch's re-check (GetLiveChannelStat) fails now and then, retries included.
    env.emu.faults.set([{ operation: 'GetLiveChannelStat', rate: 0.8, kind: 'internal-error' }], 7);
    const first = await run('faulty-1');
    env.emu.faults.set([], 0);
    const failed = first.folderErrors.map((e) => e.folder);
    expect(first.status).toBe('complete');
    expect(first.totals.folderErrors).toBe(failed.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(CHANNELS.length);
    for (const e of first.folderErrors) expect(e.code).toBe('InternalError');
    for (const channel of CHANNELS)
      expect(await leftIn(channel), channel).toBe(failed.includes(`${channel}/`) ? ORPHANS : 0);
    expect(first.totals.deleted).toBe((CHANNELS.length - failed.length) * ORPHANS);

    const second = await run('faulty-2');
    expect(second.totals).toMatchObject({ folderErrors: 0, deleted: failed.length * ORPHANS });
    for (const channel of CHANNELS) expect(await leftIn(channel), channel).toBe(0);
    expect(await env.ledger.getCleanupCursor('orphans')).toBeUndefined();
  });

  it('a run that throws saves the folder it reached; the next run resumes there', async () => {
    const ctx = real(env, 'throws-1');
    const scope = ctx.bucket('livecycle-demo');
    const listHolds = scope.ledger.listHolds.bind(scope.ledger);
    scope.ledger.listHolds = async (channel: string) => {
      if (channel === 'cam-c') throw new TypeError('a bug');
      return listHolds(channel);
    };
    await expect(cleanupOrphans(ctx, { settings: { channelPrefixes: [] } })).rejects.toThrow('a bug');
    expect(await leftIn('cam-a')).toBe(0);
    expect(await leftIn('cam-b')).toBe(0);
    expect(JSON.parse((await env.ledger.getCleanupCursor('orphans'))!)).toEqual({ folder: 'cam-c/' });

    const next = await run('throws-2');
    expect(next.resumedFrom).toEqual({ folder: 'cam-c/' });
    expect(next.totals.deleted).toBe((CHANNELS.length - 2) * ORPHANS);
    for (const channel of CHANNELS) expect(await leftIn(channel), channel).toBe(0);
  });

  it('a run killed between its report and its webhook: the next run emits cleanup.completed from the stored report', async () => {
    const ctx = real(env, 'killed-1');
    const scope = ctx.bucket('livecycle-demo');
    // The kill: once the report is stored, every OSS request of this run is reset (as cutoff.test.ts does after K
    // requests).
    let killed = false;
    const decide = env.emu.faults.decide.bind(env.emu.faults);
    env.emu.faults.decide = (operation: string) =>
      killed ? { delayMs: 0, fault: 'reset', stallMs: 0, throttleCode: 'ServiceUnavailable' } : decide(operation);
    const put = scope.ledger.putCleanupReport.bind(scope.ledger);
    scope.ledger.putCleanupReport = async (report) => {
      const out = await put(report);
      killed = true;
      return out;
    };
    try {
      await expect(cleanupOrphans(ctx, { settings: { channelPrefixes: [] } })).rejects.toThrow();
    } finally {
      killed = false;
      env.emu.faults.decide = decide;
    }
    expect((await env.ledger.latestCleanupReport())?.runId).toBe('killed-1');
    expect(completedFor('killed-1')).toBe(0);

    // The killed run's lease expires (deadline + 60 s), then the next timer run.
    await env.emu.clock.advance(5 * 60_000);
    const next = await run('after-kill');
    expect(completedFor('killed-1')).toBe(1);
    expect(completedFor('after-kill')).toBe(1);
    expect(next.status).toBe('complete');
    // And once delivered, it is not delivered again.
    await run('after-kill-2');
    expect(completedFor('killed-1')).toBe(1);
    expect(completedFor('after-kill')).toBe(1);
  });
});
