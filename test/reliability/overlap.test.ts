/**
 * Reliability: overlap and duplicates. The same scripted lifecycle runs twice on fresh stacks
 * with identical clocks: once clean (one invocation per timer tick, each MNS message once, in
 * order, each async invocation once), once hostile (5 concurrent invocations of every timer tick,
 * every MNS delivery duplicated and each batch reordered, every async invocation poll-stat →
 * generate-vod delivered twice, concurrently). The final state must be the same: the ledger
 * objects, the OSS channels, the VOD objects, and the webhook events by id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TopicMessage } from '../../local/emulator/types';
import {
  BUCKET,
  T0,
  api,
  snapshotObjects,
  startCapture,
  startStack,
  timerEvent,
  watchProcessProblems,
  type FunctionName,
  type Stack,
} from './harness';
import { MINUTE, createChannel, dueTimers, startPush, stopPush } from './flow';

const problems = watchProcessProblems();
const stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.stop();
});

interface Mode {
  copies: number;
  asyncTimes: number;
  mnsDuplicates: number;
  reorder: boolean;
}

interface RunResult {
  ledger: Map<string, string>;
  channels: string[];
  vods: Map<string, string>;
  events: string[];
  eventTypes: Record<string, number>;
  counts: { invocations: number; failures: number; mns: number; async: number; deliveries: number };
  leftovers: string[];
  all: Map<string, string>;
}

function envelope(m: TopicMessage): Buffer {
  return Buffer.from(
    JSON.stringify({
      TopicOwner: '1234567890123456',
      Message: m.body,
      Subscriber: '1234567890123456',
      PublishTime: m.publishTime,
      SigningCertURL: 'https://mns.example/x.pem',
      TopicName: m.topic,
      MessageMD5: 'X',
      MessageId: m.messageId,
    }),
  );
}

async function scenario(mode: Mode): Promise<RunResult> {
  const stack = await startStack({
    env: { SNAPSHOT_TOPIC: 'snapshots', SNAPSHOT_INTERVAL: '60', ORPHAN_GRACE: '600', LOG_LEVEL: 'warn' },
  });
  stacks.push(stack);
  const inbox: TopicMessage[] = [];
  stack.emu.topics.subscribe('snapshots', async (m) => {
    inbox.push(m);
  });
  const counts = { invocations: 0, failures: 0, mns: 0, async: 0, deliveries: 0 };
  const invoke = async (fn: FunctionName, event: Buffer) => {
    counts.invocations++;
    try {
      await stack.invoke(fn, event);
    } catch {
      counts.failures++; // like FC: a timer runs again next tick, MNS and async retry
    }
  };
  const tick = async () => {
    await stack.clock.advance(MINUTE);
    // MNS deliveries of this minute.
    let batch = inbox.splice(0);
    if (mode.reorder) batch = batch.reverse();
    const deliveries = batch.flatMap((m) => Array.from({ length: mode.mnsDuplicates }, () => envelope(m)));
    counts.mns += deliveries.length;
    await Promise.all(deliveries.map((d) => invoke('on-snapshot', d)));
    for (const fn of dueTimers(Math.floor(stack.clock.now() / MINUTE))) {
      const event = timerEvent(`${fn}-timer`, stack.clock.now());
      await Promise.all(Array.from({ length: mode.copies }, () => invoke(fn, event)));
    }
    // Async invocations: each delivered asyncTimes times, concurrently.
    while (stack.asyncQueue.length) {
      const calls = stack.asyncQueue.splice(0);
      counts.async += calls.length * mode.asyncTimes;
      await Promise.all(
        calls.flatMap((c) =>
          Array.from({ length: mode.asyncTimes }, () =>
            invoke(c.functionName as FunctionName, Buffer.from(JSON.stringify(c.payload))),
          ),
        ),
      );
    }
  };
  const minutes = async (n: number) => {
    for (let i = 0; i < n; i++) await tick();
  };

  const push = async (channel: string, url?: string) => {
    try {
      await startPush(stack, channel, url);
    } catch (err) {
      const statuses = (await stack.oss.listLiveChannels({})).channels.map((c) => `${c.name}:${c.status}`);
      throw new Error(
        `push ${channel} at +${(stack.clock.now() - T0) / MINUTE} min refused (${(err as Error).message}); channels ${statuses.join(' ')}`,
      );
    }
  };
  // The script (all on the frozen clock, identical in both modes).
  const urlA = await createChannel(stack, 'cam-a');
  const urlB = await createChannel(stack, 'cam-b');
  await createChannel(stack, 'cam-c'); // never pushed: goes idle and is disabled
  expect(
    (await api(stack, { method: 'POST', path: '/channels', body: { name: 'cam-d', snapshot: false } })).status,
  ).toBe(201);
  await minutes(1);
  await push('cam-a', urlA);
  await minutes(1);
  await push('cam-b', urlB);
  await minutes(4);
  await stopPush(stack, 'cam-b');
  await stack.clock.advance(30_000); // an encoder reconnect inside RECONNECT_WINDOW: one broadcast
  await push('cam-b');
  await minutes(3);
  await stopPush(stack, 'cam-a');
  await stopPush(stack, 'cam-b');
  await minutes(40);
  // Everything went idle and was disabled. cam-a is re-enabled for a second broadcast, then cam-a
  // and cam-d are deleted; cleanup runs past the grace.
  expect((await api(stack, { method: 'POST', path: '/channels/cam-a/enable' })).status).toBe(200);
  await push('cam-a');
  await minutes(5);
  await stopPush(stack, 'cam-a');
  await minutes(5);
  expect((await api(stack, { method: 'DELETE', path: '/channels/cam-a' })).status).toBe(200);
  expect((await api(stack, { method: 'DELETE', path: '/channels/cam-d' })).status).toBe(200);
  await minutes(75);

  counts.deliveries = stack.receiver!.deliveries.length;
  const all = await snapshotObjects(stack.oss);
  const cleanupIds = new Set(stack.receiver!.deliveries.filter((d) => d.type === 'cleanup.completed').map((d) => d.id));
  const ledger = new Map<string, string>();
  const vods = new Map<string, string>();
  for (const [key, body] of all) {
    if (key.startsWith('_livecycle/')) {
      // Run-specific by nature: cleanup reports/leases/cursors (keyed by run id), the poll cache,
      // usage records (batched per instance, docs/cost.md) and bookkeeping of cleanup.completed
      // events (one per run id).
      if (/^_livecycle\/(cleanup\/|poll\/|usage\/)/.test(key)) continue;
      if ([...cleanupIds].some((id) => key.includes(id)) || /webhooks\/(seq|assigned)\/~/.test(key)) continue;
      // The run id inside a record names the FC request that wrote it, a delivery claim id is
      // random: both differ between runs by construction.
      ledger.set(
        key,
        body.replace(/"runId":"[^"]*"/, '"runId":"<run>"').replace(/"claimId":"[^"]*"/, '"claimId":"<claim>"'),
      );
    } else if (key.endsWith('.m3u8') && !key.endsWith('/playlist.m3u8')) vods.set(key, body);
  }
  // Leftovers of the deleted channels, for the orphan check.
  const leftovers = [...all.keys()].filter((k) => k.startsWith('cam-a/') || k.startsWith('cam-d/'));
  const eventTypes: Record<string, number> = {};
  for (const d of stack.receiver!.deliveries) eventTypes[d.type] = (eventTypes[d.type] ?? 0) + 1;
  return {
    ledger,
    channels: (await stack.oss.listLiveChannels({})).channels.map((c) => `${c.name}:${c.status}`),
    vods,
    events: stack.receiver!.ids().filter((id) => !cleanupIds.has(id)),
    eventTypes,
    counts,
    leftovers,
    all,
  };
}

describe('overlap and duplicates', () => {
  it('5 concurrent timer invocations, duplicated+reordered MNS, doubled async invocations: same final state as one clean run', async () => {
    const capture = startCapture();
    try {
      const clean = await scenario({ copies: 1, asyncTimes: 1, mnsDuplicates: 1, reorder: false });
      await stacks.splice(0).reduce((p, s) => p.then(() => s.stop()), Promise.resolve());
      const chaos = await scenario({ copies: 5, asyncTimes: 2, mnsDuplicates: 2, reorder: true });
      console.log(
        `[reliability/overlap] clean: ${JSON.stringify(clean.counts)} events ${JSON.stringify(clean.eventTypes)}; duplicated: ${JSON.stringify(chaos.counts)} events ${JSON.stringify(chaos.eventTypes)}; ledger objects compared ${clean.ledger.size}/${chaos.ledger.size}, VOD objects ${clean.vods.size}/${chaos.vods.size}, event ids ${clean.events.length}/${chaos.events.length}`,
      );

      // The clean run did what the script says (so the comparison is not between two empty states).
      expect(clean.channels).toEqual(['cam-b:disabled', 'cam-c:disabled']);
      const readyVods = [...clean.ledger.keys()].filter((k) => /\/vods\/.*\/ready\.json$/.test(k));
      expect(readyVods.filter((k) => k.includes('/cam-a/'))).toHaveLength(2);
      expect(readyVods.filter((k) => k.includes('/cam-b/'))).toHaveLength(1);
      expect(clean.vods.size).toBeGreaterThanOrEqual(3);
      expect(clean.eventTypes['stream.started']).toBe(3);
      expect(clean.eventTypes['vod.ready']).toBe(3);
      expect([...clean.ledger.keys()].filter((k) => k.includes('/snapshots/')).length).toBeGreaterThan(0);

      // Deleted channels: 75 min after the delete (grace 10 min, two hourly cleanups) only the VOD
      // playlists and the fragments they reference may remain.
      const referenced = new Set<string>();
      for (const k of clean.leftovers.filter((k) => k.endsWith('.m3u8') && !k.endsWith('/playlist.m3u8'))) {
        for (const line of clean.all.get(k)!.split('\n'))
          if (line && !line.startsWith('#')) referenced.add(`${k.slice(0, k.indexOf('/') + 1)}${line.trim()}`);
      }
      // Cleanup's candidates are `.ts` ingest fragments only (docs/cleanup.md: playlists and snapshot JPGs are never
      // deleted).
      const orphans = clean.leftovers.filter((k) => k.endsWith('.ts') && !referenced.has(k));
      const kept = clean.leftovers.filter((k) => !k.endsWith('.ts')).length;
      console.log(
        `[reliability/overlap] deleted channels' leftovers after grace: ${clean.leftovers.length} objects, ${referenced.size} referenced fragments, ${orphans.length} orphan fragments; ${kept} non-fragment objects kept by design (VOD/live playlists, snapshot JPGs)`,
      );
      expect(clean.leftovers.filter((k) => k.endsWith('.ts')).length).toBeGreaterThan(0);
      expect(orphans).toEqual([]);

      // Same final state.
      expect(chaos.channels).toEqual(clean.channels);
      expect([...chaos.vods.keys()].sort()).toEqual([...clean.vods.keys()].sort());
      for (const [k, v] of clean.vods) expect(chaos.vods.get(k), k).toBe(v);
      expect(chaos.events).toEqual(clean.events);
      const onlyClean = [...clean.ledger.keys()].filter((k) => !chaos.ledger.has(k));
      const onlyChaos = [...chaos.ledger.keys()].filter((k) => !clean.ledger.has(k));
      expect({ onlyClean, onlyChaos }).toEqual({ onlyClean: [], onlyChaos: [] });
      const differing = [...clean.ledger.keys()].filter((k) => chaos.ledger.get(k) !== clean.ledger.get(k));
      expect(differing.map((k) => `${k}\n  clean: ${clean.ledger.get(k)}\n  dup:   ${chaos.ledger.get(k)}`)).toEqual(
        [],
      );
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      capture.stop();
    }
  }, 170_000);
});
void BUCKET;
