/**
 * Adaptive polling end to end: poll-stat's timer ticks on the ControlledClock against the
 * emulator, requests counted where the emulator receives them (Node's http.server diagnostics
 * channel; the emulator runs in this process), pushes from the emulator's simulated ingest.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as generateVod } from '../../functions/generate-vod/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { BUCKET, callApi, distinctEventsOf, startWorld, type World } from './harness';

const MIN = 60_000;
const IDLE_AFTER_MIN = 30;
const CAP_MIN = 5;
/** History is read every 6 cap intervals (HISTORY_EVERY_POLLS) by idle channels. */
const HISTORY_MIN = 6 * CAP_MIN;

let world: World;
const requests = new Map<string, { stat: number; history: number }>();
const count = (message: unknown) => {
  const url = new URL((message as { request: IncomingMessage }).request.url ?? '/', 'http://emulator');
  const comp = url.searchParams.get('comp');
  if (!url.searchParams.has('live') || (comp !== 'stat' && comp !== 'history')) return;
  const channel = decodeURIComponent(url.pathname.split('/')[2] ?? '');
  const entry = requests.get(channel) ?? { stat: 0, history: 0 };
  entry[comp]++;
  requests.set(channel, entry);
};

beforeAll(async () => {
  world = await startWorld({
    RECONNECT_WINDOW: '60',
    IDLE_AFTER: String(IDLE_AFTER_MIN * 60),
    POLL_IDLE_MAX_INTERVAL: String(CAP_MIN * 60),
  });
  world.dispatch.set('generate-vod', generateVod);
  subscribe('http.server.request.start', count);
});
afterAll(async () => {
  unsubscribe('http.server.request.start', count);
  await world.stop();
});

const seen = (channel: string) => ({ ...(requests.get(channel) ?? { stat: 0, history: 0 }) });

/** One minute on, then poll-stat's timer tick and whatever VOD generation it started. */
async function minute(): Promise<void> {
  await world.clock.advance(MIN);
  await pollStat(world.tick(), world.context('poll-stat'));
  await world.settled();
}

/** Ticks until the channel's next Stat, which must come within `withinMin`; returns the minutes ticked. */
async function untilPolled(channel: string, what: 'stat' | 'history', withinMin: number): Promise<number> {
  const before = seen(channel)[what];
  for (let i = 1; i <= withinMin; i++) {
    await minute();
    if (seen(channel)[what] > before) return i;
  }
  throw new Error(`${channel}: no ${what} within ${withinMin} min`);
}

/** A channel created outside the api (no wake), idle long enough to sit at the cap. */
async function backedOffChannel(channel: string): Promise<void> {
  await world.bucket.putLiveChannel(channel, {});
  await minute(); // first sight: Stat + History
  // The ladder: IDLE_AFTER of every-tick polls, then 5 min at 1, 10 min at 2, then the 5-min cap.
  for (let i = 0; i < IDLE_AFTER_MIN + 15; i++) await minute();
}

/** A push of `seconds` that starts 10 s after a tick and ends before the next one: Stat never sees it live. */
async function pushBetweenTicks(channel: string, seconds: number): Promise<void> {
  await world.clock.advance(10_000);
  await world.emu.ingest.start({ bucket: BUCKET, channel });
  await world.clock.advance(seconds * 1000);
  await world.emu.ingest.stop({ bucket: BUCKET, channel });
  await world.clock.advance(MIN - 10_000 - seconds * 1000);
  await pollStat(world.tick(), world.context('poll-stat'));
  await world.settled();
}

async function vodStatuses(channel: string): Promise<string[]> {
  return (await world.ledger.listVods(channel)).map((v) => v.status);
}

describe('adaptive polling', () => {
  it('an idle channel at the cap costs one Stat per 5 min and one History per 30 min; a live one a Stat every tick', async () => {
    const idle = 'sched-idle';
    const live = 'sched-live';
    await backedOffChannel(idle);
    await world.bucket.putLiveChannel(live, {});
    await world.emu.ingest.start({ bucket: BUCKET, channel: live });
    await minute();
    const [idleBefore, liveBefore] = [seen(idle), seen(live)];
    for (let i = 0; i < 60; i++) await minute();
    const [idleAfter, liveAfter] = [seen(idle), seen(live)];
    expect(idleAfter.stat - idleBefore.stat).toBe(60 / CAP_MIN);
    expect(idleAfter.history - idleBefore.history).toBe(60 / HISTORY_MIN);
    expect({ stat: liveAfter.stat - liveBefore.stat, history: liveAfter.history - liveBefore.history }).toEqual({
      stat: 60,
      history: 0,
    });
    await world.emu.ingest.stop({ bucket: BUCKET, channel: live });
  });

  it('a push shorter than the back-off, between two polls, still becomes a broadcast with its VOD', async () => {
    const channel = 'sched-short';
    await backedOffChannel(channel);
    await untilPolled(channel, 'stat', CAP_MIN); // right after a Stat: the next is 5 min away
    await pushBetweenTicks(channel, 30);
    expect(distinctEventsOf(world, channel)).toEqual([]); // Stat saw nothing
    const waited = await untilPolled(channel, 'history', HISTORY_MIN + 1);
    expect(waited).toBeLessThanOrEqual(HISTORY_MIN);
    expect(distinctEventsOf(world, channel).map((e) => e.type)).toEqual([
      'stream.started',
      'stream.ended',
      'vod.ready',
    ]);
    expect(await vodStatuses(channel)).toEqual(['ready']);
  });

  it('ten such pushes (History keeps ten) inside one History interval become ten broadcasts with ten VODs', async () => {
    const channel = 'sched-ten';
    await backedOffChannel(channel);
    await untilPolled(channel, 'history', HISTORY_MIN + 1); // right after a History read
    // One 20 s push every other minute: 100 s apart (> RECONNECT_WINDOW), so ten broadcasts, all
    // over before the next History read 30 min later, none seen by a Stat.
    for (let i = 0; i < 10; i++) {
      await pushBetweenTicks(channel, 20);
      await minute();
    }
    expect(distinctEventsOf(world, channel)).toEqual([]);
    await untilPolled(channel, 'history', HISTORY_MIN);
    const types = distinctEventsOf(world, channel).map((e) => e.type);
    expect(types.filter((t) => t === 'stream.started')).toHaveLength(10);
    expect(types.filter((t) => t === 'vod.ready')).toHaveLength(10);
    expect(await vodStatuses(channel)).toEqual(Array(10).fill('ready'));
  });

  it('a push that outlasts the back-off is announced within the cap, and a publish URL wakes the channel at once', async () => {
    const channel = 'sched-wake';
    await backedOffChannel(channel);
    await untilPolled(channel, 'stat', CAP_MIN);
    await world.emu.ingest.start({ bucket: BUCKET, channel });
    const started = world.clock.now();
    const waited = await untilPolled(channel, 'stat', CAP_MIN);
    expect(waited).toBeLessThanOrEqual(CAP_MIN);
    expect(distinctEventsOf(world, channel).map((e) => e.type)).toEqual(['stream.started']);
    expect(world.clock.now() - started).toBeLessThanOrEqual(CAP_MIN * MIN);
    await world.emu.ingest.stop({ bucket: BUCKET, channel });
    for (let i = 0; i < IDLE_AFTER_MIN + 20; i++) await minute(); // ended, VOD built, idle again at the cap

    await untilPolled(channel, 'stat', CAP_MIN);
    const res = await callApi(api, world, 'POST', `/channels/${channel}/publish-url`, { body: {} });
    expect(res.status).toBe(200);
    const before = seen(channel).stat;
    for (let i = 0; i < 3; i++) await minute();
    expect(seen(channel).stat - before).toBe(3); // every tick again, from the very next one
  });
});
