/**
 * The lifecycle with a real encoder: the api creates a channel and returns a publish URL for the
 * emulator's RTMP port, ffmpeg publishes to it as-is, and after the broadcast ends poll-stat and
 * generate-vod produce a VOD whose fragments ffmpeg reads back without a warning. The emulator
 * clock runs at real speed while ffmpeg pushes (so the session has a real length in emulator
 * time) and is then advanced by hand; no assertion depends on how fast anything ran.
 * Skipped, with a printed reason, without ffmpeg.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as generateVod } from '../../functions/generate-vod/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { findFfmpeg } from '../../local/emulator/rtmp/ffmpeg';
import { testPatternArgs } from '../../local/commands/push-rtmp';
import { callApi, eventsOf, keysUnder, startWorld, type World } from '../functions/harness';

const ffmpeg = findFfmpeg();
if (!ffmpeg) console.warn('SKIPPED the RTMP lifecycle test: no ffmpeg on PATH and no @ffmpeg-installer/ffmpeg');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg!.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const CHANNEL = 'cam-rtmp-e2e';

describe.skipIf(!ffmpeg)('a real RTMP broadcast through the lifecycle', { timeout: 180_000 }, () => {
  let world: World;
  let work: string;
  beforeAll(async () => {
    world = await startWorld({ RECONNECT_WINDOW: '60' }, { rtmpPort: 0 });
    world.dispatch.set('generate-vod', generateVod);
    work = mkdtempSync(join(tmpdir(), 'livecycle-rtmp-e2e-'));
  });
  afterAll(async () => {
    await world?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function poll(): Promise<void> {
    await pollStat(world.tick(), world.context('poll-stat'));
    await world.settled();
  }

  it('creates, publishes with the api URL as-is, ends and generates a VOD that plays', async () => {
    const created = await callApi(api, world, 'POST', '/channels', { body: { name: CHANNEL } });
    expect(created.status).toBe(201);
    const publishUrl = created.body.publishUrl as string;
    expect(publishUrl, publishUrl).toMatch(new RegExp(`^${world.emu.rtmpOrigin}/live/${CHANNEL}\\?`));

    world.clock.setRate(1);
    const pushing = run(testPatternArgs(publishUrl, 6));
    await vi.waitFor(
      async () => {
        if ((await world.bucket.getLiveChannelStat(CHANNEL)).status !== 'Live') throw new Error('not live yet');
      },
      { timeout: 60_000, interval: 50 },
    );
    await poll(); // sees the broadcast start
    const pushed = await pushing;
    expect(pushed.code, pushed.stderr).toBe(0);
    await vi.waitFor(
      async () => {
        if ((await world.bucket.getLiveChannelHistory(CHANNEL)).length !== 1) throw new Error('push not ended yet');
      },
      { timeout: 30_000, interval: 50 },
    );
    world.clock.setRate(0);

    // After the reconnect window the broadcast ends and generate-vod writes the VOD.
    await world.clock.advance(120_000);
    await poll();
    await poll();
    const fragments = (await keysUnder(world.bucket, `${CHANNEL}/`)).filter((k) => k.endsWith('.ts'));
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    const vods = (await keysUnder(world.bucket, `${CHANNEL}/vod-`)).filter((k) => k.endsWith('.m3u8'));
    expect(vods).toHaveLength(1);
    const playlist = (await world.bucket.getObject(vods[0]!)).body.toString('utf8');
    for (const key of fragments) expect(playlist).toContain(key.slice(CHANNEL.length + 1));
    expect(eventsOf(world, CHANNEL).map((e) => e.type)).toEqual([
      'channel.created',
      'stream.started',
      'stream.ended',
      'vod.ready',
    ]);

    writeFileSync(join(work, 'vod.m3u8'), playlist);
    for (const key of fragments)
      writeFileSync(join(work, key.slice(CHANNEL.length + 1)), (await world.bucket.getObject(key)).body);
    const read = await run([
      '-hide_banner',
      '-v',
      'warning',
      '-i',
      join(work, 'vod.m3u8'),
      '-c',
      'copy',
      '-f',
      'null',
      '-',
    ]);
    expect(read.code).toBe(0);
    expect(read.stderr).toBe('');
  });
});
