/**
 * Reliability: cut off mid-way. Two ways an invocation ends early on FC:
 *  - its deadline arrives (context.function.timeout small): cleanup-orphans must stop, report
 *    `partial`, and the next run must continue where it stopped;
 *  - it is killed outright (FC's timeout, an instance crash): nothing after the kill point lands,
 *    the lease is not released. generate-vod and cleanup-orphans are killed after K OSS requests
 *    for a range of K; the next invocation (FC's async retry, the next timer tick) must finish the
 *    job with the same final state as an uninterrupted run.
 * Time is the emulator's ControlledClock; a "kill switch" wraps the emulator's fault decision so
 * every OSS request can cost emulator time and, once armed, all requests after the K-th reset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import {
  BUCKET,
  api,
  compressBackoff,
  snapshotObjects,
  startCapture,
  startStack,
  timerEvent,
  watchProcessProblems,
  type Stack,
} from './harness';
import { MINUTE, createChannel, runTimer, startPush, stopPush } from './flow';

const problems = watchProcessProblems();
const stacks: Stack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.stop();
});

interface KillSwitch {
  /** Emulator ms every OSS request costs (0: free). */
  tickMs: number;
  /** undefined: off; n: n more requests pass, then every request is reset. */
  allow: number | undefined;
  requests: number;
}

function killSwitch(emu: Emulator): KillSwitch {
  const state: KillSwitch = { tickMs: 0, allow: undefined, requests: 0 };
  const original = emu.faults.decide.bind(emu.faults);
  emu.faults.decide = (operation: string) => {
    state.requests++;
    // With no clock timers pending (no push running) advance() moves the clock synchronously.
    if (state.tickMs) void emu.clock.advance(state.tickMs);
    if (state.allow !== undefined) {
      if (state.allow > 0) state.allow--;
      else return { delayMs: 0, fault: 'reset', stallMs: 0, throttleCode: 'ServiceUnavailable' };
    }
    return original(operation);
  };
  return state;
}

const ORPHANS_PER_CHANNEL = 60;
/** Extra channels in the kill test: one generate-vod kill point each. */
const KILL_VODS = 6;

/**
 * Three channels (plus `extra`) with a broadcast each (VOD planned, generate-vod queued); two are then deleted with
 * extra unreferenced fragments.
 */
async function prepare(extra = 0): Promise<{ stack: Stack; sw: KillSwitch }> {
  const channels = [
    'cut-1',
    'cut-2',
    'cut-3',
    ...Array.from({ length: extra }, (_, i) => `vod-${String(i).padStart(2, '0')}`),
  ];
  const stack = await startStack({ env: { ORPHAN_GRACE: '600', LOG_LEVEL: 'warn', CLEANUP_MAX_OBJECTS: '100000' } });
  stacks.push(stack);
  const sw = killSwitch(stack.emu);
  for (const ch of channels) await startPush(stack, ch, await createChannel(stack, ch));
  await runTimer(stack, 'poll-stat');
  await stack.clock.advance(10 * MINUTE);
  for (const ch of channels) await stopPush(stack, ch);
  for (let i = 0; i < 3; i++) {
    await stack.clock.advance(MINUTE);
    await runTimer(stack, 'poll-stat');
  }
  // Leftovers no playlist references (e.g. from a push whose VOD was never made).
  for (const ch of ['cut-2', 'cut-3']) {
    for (let i = 0; i < ORPHANS_PER_CHANNEL; i++)
      await stack.oss.putObject(`${ch}/${String(9_000_000_000_000 + i)}.ts`, Buffer.from('x'));
  }
  return { stack, sw };
}

async function finishVods(stack: Stack): Promise<void> {
  await stack.drainAsync();
  await runTimer(stack, 'generate-vod');
}

async function deleteAndAge(stack: Stack): Promise<void> {
  for (const ch of ['cut-2', 'cut-3'])
    expect((await api(stack, { method: 'DELETE', path: `/channels/${ch}` })).status).toBe(200);
  await stack.clock.advance(15 * MINUTE); // past ORPHAN_GRACE
}

/** Bucket state that must not depend on how the work was cut: objects outside the ledger, VOD and cleaned records. */
async function finalState(stack: Stack): Promise<Record<string, string>> {
  const all = await snapshotObjects(stack.oss);
  const out: Record<string, string> = {};
  for (const [k, v] of all) {
    if (!k.startsWith('_livecycle/')) out[k] = v;
    else if (/\/vods\//.test(k)) out[k] = v;
    else if (/\/cleaned\//.test(k)) out[k] = 'cleaned'; // its counts and run id name the run that finished it
  }
  return out;
}

function eventIds(stack: Stack): string[] {
  return stack
    .receiver!.deliveries.filter((d) => d.type !== 'cleanup.completed')
    .map((d) => d.id)
    .filter((id, i, a) => a.indexOf(id) === i)
    .sort();
}

describe('cut off mid-way', () => {
  it('cleanup-orphans stopped by its deadline again and again resumes each time and ends like one uninterrupted run', async () => {
    const capture = startCapture();
    try {
      const ref = await prepare();
      await finishVods(ref.stack);
      await deleteAndAge(ref.stack);
      await runTimer(ref.stack, 'cleanup-orphans');
      const expected = await finalState(ref.stack);
      const expectedEvents = eventIds(ref.stack);
      await stacks.splice(0).reduce((p, s) => p.then(() => s.stop()), Promise.resolve());

      const { stack, sw } = await prepare();
      await finishVods(stack);
      await deleteAndAge(stack);
      // Every OSS request costs 1 s of emulator time; with a 20 s FC timeout the deadline (17 s)
      // and cleanup's wrap-up margin leave room for a couple of dozen requests per run.
      sw.tickMs = 1_000;
      const statuses: string[] = [];
      for (let run = 0; run < 60; run++) {
        const res = (await stack.invoke('cleanup-orphans', timerEvent('cleanup', stack.clock.now()), {
          timeoutSeconds: 20,
        })) as { buckets: { status: string; stoppedBy: string | null; totals?: { deleted?: number } }[] };
        const b = res.buckets[0]!;
        statuses.push(`${b.status === 'partial' ? `partial(${b.stoppedBy})` : b.status}:${b.totals?.deleted ?? '?'}`);
        if (b.status === 'complete') break;
        await stack.clock.advance(2 * MINUTE);
      }
      sw.tickMs = 0;
      const partial = statuses.filter((s) => s.startsWith('partial')).length;
      console.log(
        `[reliability/cutoff] cleanup with a 20 s timeout and 1 s per OSS request: ${statuses.length} runs (${partial} stopped by deadline; status:deleted per run ${statuses.join(' ')}); ${Object.keys(expected).length} objects compared`,
      );
      expect(partial).toBeGreaterThanOrEqual(2);
      expect(statuses.at(-1)).toMatch(/^complete:/);
      expect(statuses.filter((s) => s.startsWith('partial')).every((s) => s.startsWith('partial(deadline)'))).toBe(
        true,
      );
      const got = await finalState(stack);
      expect(Object.keys(got).filter((k) => !(k in expected))).toEqual([]);
      expect(Object.keys(expected).filter((k) => !(k in got))).toEqual([]);
      expect(got).toEqual(expected);
      // And that state is right: every planted orphan is gone, the live channel's fragments remain.
      expect(Object.keys(got).filter((k) => /^cut-[23]\/9\d{12}\.ts$/.test(k))).toEqual([]);
      expect(Object.keys(got).filter((k) => /^cut-1\/\d{13}\.ts$/.test(k)).length).toBeGreaterThan(100);
      expect(eventIds(stack)).toEqual(expectedEvents);
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      capture.stop();
    }
  }, 120_000);

  it('generate-vod and cleanup-orphans killed after K OSS requests (K = 0..) finish on the next invocation with the uninterrupted result', async () => {
    const capture = startCapture();
    const restoreBackoff = compressBackoff(20); // killed requests are retried by the client with real-time back-off
    try {
      const ref = await prepare(KILL_VODS);
      await finishVods(ref.stack);
      await deleteAndAge(ref.stack);
      await runTimer(ref.stack, 'cleanup-orphans');
      await runTimer(ref.stack, 'poll-stat');
      const expected = await finalState(ref.stack);
      const expectedEvents = eventIds(ref.stack);
      await stacks.splice(0).reduce((p, s) => p.then(() => s.stop()), Promise.resolve());

      const { stack, sw } = await prepare(KILL_VODS);
      const kills: string[] = [];
      // generate-vod: the i-th queued invocation is killed after K = i OSS requests (every point of
      // an uninterrupted build, which takes fewer requests than there are channels), then FC's
      // async retry runs it again.
      const queued = stack.asyncQueue.splice(0);
      expect(queued).toHaveLength(3 + KILL_VODS);
      for (const [i, call] of queued.entries()) {
        sw.allow = i;
        let outcome = 'resolved';
        await stack.invoke('generate-vod', Buffer.from(JSON.stringify(call.payload))).catch((err: unknown) => {
          outcome = `killed (${(err as Error).name})`;
        });
        sw.allow = undefined;
        kills.push(`generate-vod K=${i}: ${outcome}`);
        await stack.invoke('generate-vod', Buffer.from(JSON.stringify(call.payload)));
      }
      await runTimer(stack, 'generate-vod');
      await deleteAndAge(stack);
      // cleanup-orphans killed after K = 0, 3, 6, … 18 requests (or until a run completes); a killed run
      // keeps its lease, so the next tick waits it out (advance past deadline + slack).
      let done = false;
      for (let k = 0; k <= 18 && !done; k += 3) {
        sw.allow = k;
        let status = 'killed';
        try {
          const res = (await stack.invoke('cleanup-orphans', timerEvent('cleanup', stack.clock.now()), {
            timeoutSeconds: 60,
          })) as { buckets: { status: string }[] };
          status = res.buckets[0]!.status;
        } catch (err) {
          status = `killed (${(err as Error).name})`;
        }
        const completedUnarmed = sw.allow === undefined;
        sw.allow = undefined;
        kills.push(`cleanup K=${k}: ${status}`);
        done = status === 'complete';
        void completedUnarmed;
        await stack.clock.advance(3 * MINUTE);
      }
      if (!done) await runTimer(stack, 'cleanup-orphans');
      // The next poll-stat tick drains the webhook outbox (events whose delivery a kill interrupted).
      await runTimer(stack, 'poll-stat');
      const missing = expectedEvents.filter((id) => !eventIds(stack).includes(id));
      const typeOf = (id: string) => ref.stack.receiver!.deliveries.find((d) => d.id === id)?.body.slice(0, 200);
      if (missing.length)
        console.log(`[reliability/cutoff] events never delivered after the kills: ${missing.map(typeOf).join(' | ')}`);
      console.log(`[reliability/cutoff] kills: ${kills.join('; ')}`);
      const got = await finalState(stack);
      expect(Object.keys(got).filter((k) => !(k in expected))).toEqual([]);
      expect(Object.keys(expected).filter((k) => !(k in got))).toEqual([]);
      expect(got).toEqual(expected);
      expect(Object.keys(got).filter((k) => k.endsWith('/ready.json'))).toHaveLength(3 + KILL_VODS);
      expect(eventIds(stack)).toEqual(expectedEvents);
      expect(kills.filter((k) => k.includes('killed')).length).toBeGreaterThanOrEqual(3);
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      capture.stop();
      restoreBackoff();
    }
  }, 120_000);

  it('disable-idle killed after K OSS requests (K = 0..29, one run each) still disables every idle channel and announces each once', async () => {
    const capture = startCapture();
    const restoreBackoff = compressBackoff(20);
    const stack = await startStack({ env: { IDLE_AFTER: '1800', LOG_LEVEL: 'warn' } });
    stacks.push(stack);
    try {
      const sw = killSwitch(stack.emu);
      const channels = Array.from({ length: 6 }, (_, i) => `idle-${i}`);
      for (const ch of channels) await createChannel(stack, ch);
      await stack.clock.advance(31 * MINUTE);
      const outcomes: string[] = [];
      for (let k = 0; k < 30; k++) {
        sw.allow = k;
        await stack
          .invoke('disable-idle', timerEvent('idle', stack.clock.now()))
          .then(() => outcomes.push(`K=${k}: resolved`))
          .catch((err: unknown) => outcomes.push(`K=${k}: killed (${(err as Error).name})`));
        sw.allow = undefined;
        await stack.clock.advance(MINUTE);
      }
      // Later ticks without kills (disable-idle and poll-stat both drain the webhook outbox).
      await runTimer(stack, 'disable-idle');
      await runTimer(stack, 'poll-stat');
      const statuses = (await stack.oss.listLiveChannels({})).channels.map((c) => `${c.name}:${c.status}`);
      const announced = new Set(
        stack
          .receiver!.deliveries.filter((d) => d.type === 'channel.disabled')
          .map((d) => (JSON.parse(d.body) as { channel: string }).channel),
      );
      console.log(
        `[reliability/cutoff] disable-idle kills: ${outcomes.filter((o) => o.includes('killed')).length}/30 killed; disabled ${statuses.filter((s) => s.endsWith(':disabled')).length}/${channels.length}; channel.disabled announced for ${announced.size}/${channels.length}: missing ${channels.filter((c) => !announced.has(c)).join(', ') || 'none'}`,
      );
      expect(statuses).toEqual(channels.map((c) => `${c}:disabled`));
      expect([...announced].sort()).toEqual(channels);
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      capture.stop();
      restoreBackoff();
    }
  }, 120_000);

  it('api create, disable and delete killed after K OSS requests (K = 0..24 each) and retried by the client announce every event once', async () => {
    const capture = startCapture();
    const restoreBackoff = compressBackoff(20);
    const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
    stacks.push(stack);
    try {
      const sw = killSwitch(stack.emu);
      const KS = 25;
      const outcomes = new Map<string, number>();
      const note = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
      /**
       * One api call killed after K requests, then retried unarmed until it is answered below 500 (a client's retry).
       */
      const killedThenRetried = async (k: number, call: Parameters<typeof api>[1], done: number[]): Promise<number> => {
        sw.allow = k;
        const first = await api(stack, call).catch(() => undefined);
        sw.allow = undefined;
        note(
          `${call.method} ${call.path.split('/').length > 3 ? call.path.split('/')[3] : 'channel'}: first ${first?.status ?? 'killed'}`,
        );
        for (let attempt = 0; attempt < 5; attempt++) {
          const res = await api(stack, call);
          if (res.status < 500) {
            expect(done).toContain(res.status);
            return res.status;
          }
        }
        throw new Error(`${call.method} ${call.path} still failing`);
      };
      const names = Array.from({ length: KS }, (_, k) => `api-${String(k).padStart(2, '0')}`);
      for (const [k, name] of names.entries())
        await killedThenRetried(k, { method: 'POST', path: '/channels', body: { name } }, [201, 409]);
      for (const [k, name] of names.entries())
        await killedThenRetried(k, { method: 'POST', path: `/channels/${name}/disable` }, [200]);
      for (const [k, name] of names.entries())
        await killedThenRetried(k, { method: 'DELETE', path: `/channels/${name}` }, [200, 404]);
      // Events whose delivery a kill interrupted are delivered by a later drain once the dead claimant's claim lapses.
      await stack.clock.advance(2 * MINUTE);
      await runTimer(stack, 'poll-stat');
      const announced = (type: string) =>
        new Set(
          stack
            .receiver!.deliveries.filter((d) => d.type === type)
            .map((d) => (JSON.parse(d.body) as { channel: string }).channel),
        );
      const missing = Object.fromEntries(
        ['channel.created', 'channel.disabled', 'channel.deleted'].map((t) => [
          t,
          names.filter((n) => !announced(t).has(n)),
        ]),
      );
      console.log(
        `[reliability/cutoff] api kills: ${KS} channels × create/disable/delete, K = 0..${KS - 1}; first attempts ${JSON.stringify(Object.fromEntries(outcomes))}; events missing ${JSON.stringify(missing)}`,
      );
      expect((await stack.oss.listLiveChannels({})).channels).toEqual([]);
      // Known limitation (docs/reliability.md): a create killed between PutLiveChannel and its ledger
      // record leaves no record to announce from (the retry gets 409). Every create that recorded
      // its generation is announced.
      const recorded = new Set(
        [...(await snapshotObjects(stack.oss, '_livecycle/channels/')).keys()].map((k) => k.split('/')[2]),
      );
      expect(missing['channel.created']!.filter((n) => recorded.has(n))).toEqual([]);
      expect(missing['channel.created']!.length).toBeLessThanOrEqual(1);
      expect(missing['channel.disabled']).toEqual([]);
      expect(missing['channel.deleted']).toEqual([]);
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      capture.stop();
      restoreBackoff();
    }
  }, 120_000);
});
void BUCKET;
