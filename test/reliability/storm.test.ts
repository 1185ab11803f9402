/**
 * Reliability: a fault storm. A simulated day of STORM_CHANNELS channels on the emulator's clock
 * while 20 % of OSS requests fail (seeded mix: 500, 503 throttling, connection resets, stalls
 * that end in a dropped connection, truncated bodies). Timers run as FC runs them (poll-stat and
 * disable-idle every tick, generate-vod every 2nd, cleanup-orphans every 12th; a failed timer
 * invocation simply runs again next tick; async invocations get FC's 3 retries). After the day,
 * 30 minutes of ticks without faults let retries land (as real time would). Then:
 *  - every ended broadcast has exactly one VOD (one `ready` record; its playlists exist);
 *  - no referenced fragment is missing and no fragment of a live (not deleted) channel is gone;
 *  - every orphan past grace of a deleted channel is gone;
 *  - the ledger agrees with OSS (channels, tombstones, disables);
 *  - no invocation ended in an unhandled rejection.
 * Sizes: 40 channels over a day of 15-minute ticks by default (STORM_CHANNELS=100 is the full
 * size; STORM_TICK_MINUTES scales the ticks). STORM_SEED picks the plan and the fault sequence
 * (default 0); STORM_RUNS=n runs n storms with seeds STORM_SEED, STORM_SEED+1, …. Stalls hold a request 150 ms (real
 * time) while the functions'
 * OSS client gives a call 100 ms (OSS_TIMEOUT_MS; STORM_OSS_TIMEOUT_MS sets it, the stall is
 * 1.5 times that), so a stall is a real client timeout. Stalls cost real time: they are most of
 * the test's wall time.
 */
import { describe, expect, it } from 'vitest';
import {
  BUCKET,
  api,
  compressBackoff,
  startCapture,
  startStack,
  timerEvent,
  watchProcessProblems,
  type FunctionName,
} from './harness';
import { MINUTE, startPush, stopPush } from './flow';
import { mulberry32 } from '../../local/emulator/faults';

const CHANNELS = Number(process.env.STORM_CHANNELS ?? 40);
const RUNS = Number(process.env.STORM_RUNS ?? 1);
const FIRST_SEED = Number(process.env.STORM_SEED ?? 0);
/** `STORM_REFUSE_VOD_WHEN_DISABLED=1`: the strict emulator (PostVodPlaylist on a disabled channel → 409). */
const REFUSE_VOD_WHEN_DISABLED = process.env.STORM_REFUSE_VOD_WHEN_DISABLED === '1';
/**
 * Emulator time per tick. FC would tick poll-stat every minute; the OSS client's real-time retry back-off (200 ms, 400
 * ms per failed request) makes every tick cost real seconds under a 20 % failure rate, so a tick here is 15 min.
 */
const TICK = Number(process.env.STORM_TICK_MINUTES ?? 15) * MINUTE;
const DAY_TICKS = (24 * 60 * MINUTE) / TICK;
/**
 * After the faults stop, ticks go on (every timer each tick, cleanup-orphans included) until one
 * finds nothing left to do: every invocation succeeded, no DELETE pending, every VOD ready or
 * failed, cleanup complete without folder errors. At least MIN, at most MAX: on a loaded machine
 * calls still miss the 100 ms deadline without injected faults, so how many ticks that takes
 * varies; the end state checked below may not. Past MAX the checks report what did not converge.
 */
const MIN_RECOVERY_TICKS = 2;
const MAX_RECOVERY_TICKS = 24;
const FAULT_RATE = 0.2;
/** The functions' OSS client deadline per call (OSS_TIMEOUT_MS) and the stall, which exceeds it. */
const OSS_TIMEOUT_MS = Number(process.env.STORM_OSS_TIMEOUT_MS ?? 100);
const STALL_MS = Math.round(OSS_TIMEOUT_MS * 1.5);

interface Plan {
  channel: string;
  /** Broadcasts in ticks [startTick, endTick); `reconnect` adds a 30 s drop in the middle. */
  broadcasts: { start: number; end: number; reconnect: boolean }[];
  /** Tick at which the channel is deleted through the api (≥ 12 ticks after its last broadcast). */
  deleteAt?: number;
}

function makePlans(seed: number): Plan[] {
  const rnd = mulberry32(seed);
  const plans: Plan[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const channel = `storm-${String(i).padStart(3, '0')}`;
    const broadcasts: Plan['broadcasts'] = [];
    const count = i % 5 === 4 ? 0 : 1 + Math.floor(rnd() * 3); // every 5th channel never pushes
    const h = (60 * MINUTE) / TICK; // ticks per hour
    let t = 1 + Math.floor(rnd() * 4 * h);
    for (let b = 0; b < count; b++) {
      const len = Math.max(2, Math.round((0.5 + rnd() * 1.5) * h));
      if (t + len >= DAY_TICKS - 8 * h) break;
      broadcasts.push({ start: t, end: t + len, reconnect: rnd() < 0.3 });
      t += len + Math.round((1 + rnd() * 5) * h);
    }
    const last = broadcasts.at(-1)?.end ?? 0;
    const deleteAt = i % 4 === 1 && last + h < DAY_TICKS - 6 * h ? last + h + Math.floor(rnd() * 2 * h) : undefined;
    plans.push({ channel, broadcasts, ...(deleteAt === undefined ? {} : { deleteAt }) });
  }
  return plans;
}

const FAULTS = [
  { operation: '*', rate: FAULT_RATE * 0.25, kind: 'internal-error' as const },
  { operation: '*', rate: (FAULT_RATE * 0.25) / (1 - FAULT_RATE * 0.25), kind: 'throttle' as const },
  { operation: '*', rate: (0.2 * 0.2) / (1 - 0.1), kind: 'reset' as const },
  // Held past the functions' OSS_TIMEOUT_MS: the client times out, then the connection drops.
  { operation: '*', rate: (0.2 * 0.15) / (1 - 0.14), kind: 'stall' as const, ms: STALL_MS },
  { operation: '*', rate: (0.2 * 0.15) / (1 - 0.17), kind: 'truncate' as const },
];

describe('fault storm', () => {
  for (let seed = FIRST_SEED; seed < FIRST_SEED + RUNS; seed++) stormRun(seed);
});

function stormRun(seed: number): void {
  it(`a simulated day of ${CHANNELS} channels with ${FAULT_RATE * 100} % of OSS requests failing ends consistent (seed ${seed})`, async () => {
    const problems = watchProcessProblems();
    const capture = startCapture();
    const restoreBackoff = compressBackoff(50);
    const stack = await startStack({
      sts: false,
      refuseVodWhenDisabled: REFUSE_VOD_WHEN_DISABLED,
      env: {
        LOG_LEVEL: 'error',
        ORPHAN_GRACE: '3600',
        IDLE_AFTER: '7200',
        CLEANUP_MAX_OBJECTS: '100000',
        OSS_TIMEOUT_MS: String(OSS_TIMEOUT_MS),
      },
    });
    try {
      const plans = makePlans(2024 + seed);
      // Created like a client would: on a loaded machine a call can miss the 100 ms OSS deadline
      // even before the faults start, so a failed create is sent again (replace: a half-done
      // earlier attempt may have made the channel).
      for (const p of plans) {
        let status = 0;
        for (let attempt = 0; attempt < 20 && status !== 201; attempt++) {
          status = (
            await api(stack, {
              method: 'POST',
              path: '/channels',
              body: { name: p.channel, fragDuration: 20, fragCount: 3, ...(attempt ? { replace: true } : {}) },
            })
          ).status;
        }
        expect(status).toBe(201);
      }
      // Leftovers nobody references, in the folders of channels that will be deleted (planted before faults).
      const planted: string[] = [];
      for (const p of plans.filter((p) => p.deleteAt !== undefined)) {
        for (let i = 0; i < 5; i++) {
          const key = `${p.channel}/${9_000_000_000_000 + i}.ts`;
          await stack.oss.putObject(key, Buffer.from('leftover'));
          planted.push(key);
        }
      }
      const counts = { invocations: 0, failed: 0, asyncRetries: 0, asyncGaveUp: 0, deletes: 0, deleteRetries: 0 };
      const failures = new Map<string, number>();
      /** The invocation's result, or FAILED. */
      const FAILED = Symbol('failed');
      const invoke = async (fn: FunctionName, event: Buffer): Promise<unknown> => {
        counts.invocations++;
        try {
          return await stack.invoke(fn, event, { timeoutSeconds: 600 });
        } catch (err) {
          counts.failed++;
          const k = `${fn}: ${(err as Error).name}`;
          failures.set(k, (failures.get(k) ?? 0) + 1);
          return FAILED;
        }
      };
      /** A cleanup-orphans result that left nothing for a later run. */
      const cleanupDone = (result: unknown) =>
        (result as { buckets?: { status: string; totals?: { folderErrors?: number } }[] }).buckets?.every(
          (b) => b.status === 'complete' && !b.totals?.folderErrors,
        ) === true;
      /** Broadcasts whose VOD is neither ready nor failed yet. */
      const pendingVods = async () => {
        const statuses = new Map<string, string[]>();
        for await (const o of stack.oss.iterateObjects({ prefix: '_livecycle/vods/', pageSize: 1000 })) {
          const dir = o.key.slice(0, o.key.lastIndexOf('/'));
          statuses.set(dir, [...(statuses.get(dir) ?? []), o.key.slice(dir.length + 1)]);
        }
        return [...statuses.values()].filter((files) => !files.includes('ready.json') && !files.includes('failed.json'))
          .length;
      };
      const pendingDeletes: string[] = [];
      /** When each api DELETE was answered 200 (a refused one is retried next tick). */
      const deletedAt = new Map<string, number>();
      // An encoder pushing to a channel that went idle is refused; its operator re-enables it
      // through the api (retrying like any client until it is answered) and pushes again.
      let reenables = 0;
      const push = async (channel: string) => {
        try {
          await startPush(stack, channel);
        } catch (err) {
          if ((err as { code?: string }).code !== 'LiveChannelDisabled') throw err;
          for (let attempt = 0; attempt < 20; attempt++) {
            if ((await api(stack, { method: 'POST', path: `/channels/${channel}/enable` })).status === 200) break;
          }
          reenables++;
          await startPush(stack, channel);
        }
      };
      /** One tick; in recovery every timer runs. Whether every invocation succeeded and no DELETE is left. */
      const tick = async (n: number, recovery = false): Promise<boolean> => {
        await stack.clock.advance(TICK);
        for (const p of plans) {
          for (const b of p.broadcasts) {
            if (b.start === n) await push(p.channel);
            if (b.reconnect && n === Math.floor((b.start + b.end) / 2)) {
              await stopPush(stack, p.channel);
              await stack.clock.advance(30_000);
              await push(p.channel);
            }
            if (b.end === n) await stopPush(stack, p.channel);
          }
          if (p.deleteAt === n) pendingDeletes.push(p.channel);
        }
        // api deletes (a client retries its DELETE until it is answered; DELETE is idempotent).
        for (const ch of pendingDeletes.splice(0)) {
          counts.deletes++;
          const res = await api(stack, { method: 'DELETE', path: `/channels/${ch}` });
          if (res.status === 200) deletedAt.set(ch, stack.clock.now());
          else {
            counts.deleteRetries++;
            pendingDeletes.push(ch);
          }
        }
        const minute = Math.floor(stack.clock.now() / MINUTE);
        const due: FunctionName[] = ['poll-stat', 'disable-idle', 'generate-vod'];
        if (recovery || minute % 60 < TICK / MINUTE) due.push('cleanup-orphans');
        // Different functions' timers fire independently on FC: they run concurrently.
        const results = await Promise.all(due.map((fn) => invoke(fn, timerEvent(`${fn}-timer`, stack.clock.now()))));
        let clean =
          pendingDeletes.length === 0 &&
          !results.includes(FAILED) &&
          (!recovery || cleanupDone(results[due.indexOf('cleanup-orphans')]));
        // Async invocations with FC's retries (3 attempts after the first).
        while (stack.asyncQueue.length) {
          const call = stack.asyncQueue.shift()!;
          let ok = false;
          for (let attempt = 0; attempt < 4 && !ok; attempt++) {
            if (attempt > 0) counts.asyncRetries++;
            ok =
              (await invoke(call.functionName as FunctionName, Buffer.from(JSON.stringify(call.payload)))) !== FAILED;
          }
          if (!ok) counts.asyncGaveUp++;
          clean &&= ok;
        }
        return clean;
      };

      stack.emu.faults.set(FAULTS, 20240501 + seed);
      for (let n = 1; n <= DAY_TICKS; n++) await tick(n);
      stack.emu.faults.set([], 0);
      // With the stalls gone the functions get an ordinary OSS deadline back: on a loaded machine
      // (the emulator shares this process) 100 ms is missed without any fault, which would keep
      // the recovery itself faulty. The day above ran with 100 ms throughout.
      stack.setEnv({ OSS_TIMEOUT_MS: '10000' });
      let recoveryTicks = 0;
      for (let n = DAY_TICKS + 1; recoveryTicks < MAX_RECOVERY_TICKS; n++) {
        const clean = await tick(n, true);
        recoveryTicks++;
        if (recoveryTicks >= MIN_RECOVERY_TICKS && clean && (await pendingVods()) === 0) break;
      }
      await stack.clock.advance(0);

      // ---- the end state ----
      const all = new Map<string, string>();
      for await (const o of stack.oss.iterateObjects({ prefix: '', pageSize: 1000 }))
        all.set(o.key, o.key.endsWith('.ts') ? '' : (await stack.oss.getObject(o.key)).body.toString('utf8'));
      const keys = [...all.keys()];
      const ledgerKeys = keys.filter((k) => k.startsWith('_livecycle/'));
      const ossChannels = new Map(
        (await stack.oss.listLiveChannels({ maxKeys: 1000 })).channels.map((c) => [c.name, c.status]),
      );
      const deleted = new Set(plans.filter((p) => p.deleteAt !== undefined).map((p) => p.channel));
      const problemsFound: string[] = [];

      // Ground truth: broadcasts (a 30 s reconnect is the same broadcast).
      let broadcasts = 0;
      for (const p of plans) {
        const ready = ledgerKeys.filter(
          (k) => k.startsWith(`_livecycle/vods/${p.channel}/`) && k.endsWith('/ready.json'),
        );
        const failedVods = ledgerKeys.filter(
          (k) => k.startsWith(`_livecycle/vods/${p.channel}/`) && k.endsWith('/failed.json'),
        );
        broadcasts += p.broadcasts.length;
        if (ready.length !== p.broadcasts.length) {
          const vodKeys = ledgerKeys
            .filter((k) => k.startsWith(`_livecycle/vods/${p.channel}/`))
            .map((k) => k.slice(`_livecycle/vods/${p.channel}/`.length));
          problemsFound.push(
            `${p.channel}: ${p.broadcasts.length} broadcasts (ticks ${p.broadcasts.map((b) => `${b.start}-${b.end}`).join(', ')}${p.deleteAt === undefined ? '' : `, delete at ${p.deleteAt}`}), ${ready.length} ready VODs, ${failedVods.length} failed; VOD records: ${vodKeys.join(' ') || 'none'}`,
          );
        }
        for (const k of ready) {
          const rec = JSON.parse(all.get(k)!) as { parts: { key: string }[]; parent?: { key: string } };
          for (const part of rec.parts)
            if (!all.has(part.key)) problemsFound.push(`${k}: VOD part ${part.key} missing`);
        }
      }
      // Referenced fragments exist (VOD playlists and live playlists).
      let referencedCount = 0;
      for (const [k, body] of all) {
        if (!k.endsWith('.m3u8') || k.startsWith('_livecycle/')) continue;
        const folder = k.slice(0, k.indexOf('/') + 1);
        for (const line of body.split('\n')) {
          const seg = line.trim();
          if (!seg || seg.startsWith('#')) continue;
          referencedCount++;
          const key = seg.includes('://')
            ? decodeURIComponent(new URL(seg).pathname.split('/').slice(-2).join('/'))
            : `${folder}${seg}`;
          if (!all.has(key)) problemsFound.push(`${k} references missing ${key}`);
        }
      }
      // Channels that still exist lost no fragment: their fragment numbers are contiguous.
      for (const p of plans.filter((p) => !deleted.has(p.channel))) {
        const nums = keys
          .filter((k) => k.startsWith(`${p.channel}/`) && /\/\d{13}\.ts$/.test(k))
          .map((k) => Number(k.slice(-16, -3)))
          .sort((a, b) => a - b);
        for (let i = 1; i < nums.length; i++)
          if (nums[i]! !== nums[i - 1]! + 1)
            problemsFound.push(`${p.channel}: fragment gap ${nums[i - 1]} → ${nums[i]}`);
      }
      // Orphans of deleted channels (deleted more than ORPHAN_GRACE before the end): only referenced fragments remain.
      const endMs = stack.clock.now();
      let orphansLeft = 0;
      const orphansByChannel: string[] = [];
      for (const ch of deleted) {
        const deletedAtMs = deletedAt.get(ch);
        // Not deleted (reported below), or not past grace when recovery's last cleanup ran.
        if (deletedAtMs === undefined || endMs - deletedAtMs < 3600_000 + MINUTE) continue;
        const refs = new Set<string>();
        for (const [k, body] of all)
          if (k.startsWith(`${ch}/`) && k.endsWith('.m3u8'))
            for (const line of body.split('\n')) if (line && !line.startsWith('#')) refs.add(`${ch}/${line.trim()}`);
        const left = keys.filter((k) => k.startsWith(`${ch}/`) && k.endsWith('.ts') && !refs.has(k)).length;
        if (left) orphansByChannel.push(`${ch} (deleted at ${new Date(deletedAtMs).toISOString()}): ${left}`);
        orphansLeft += left;
      }
      if (orphansLeft)
        problemsFound.push(`${orphansLeft} orphan fragments past grace remain: ${orphansByChannel.join(', ')}`);
      // Ledger vs OSS.
      for (const p of plans) {
        const hasRecord = ledgerKeys.some((k) => k.startsWith(`_livecycle/channels/${p.channel}/`));
        const tomb = ledgerKeys.some((k) => k.startsWith(`_livecycle/tombstones/${p.channel}/`));
        const inOss = ossChannels.has(p.channel);
        if (!hasRecord) problemsFound.push(`${p.channel}: no ledger record`);
        if (deleted.has(p.channel) && (inOss || !tomb))
          problemsFound.push(`${p.channel}: deleted, but inOss=${inOss} tombstone=${tomb}`);
        if (!deleted.has(p.channel) && (!inOss || tomb))
          problemsFound.push(`${p.channel}: live, but inOss=${inOss} tombstone=${tomb}`);
        if (
          ossChannels.get(p.channel) === 'disabled' &&
          !ledgerKeys.some((k) => k.startsWith(`_livecycle/disabled/${p.channel}/`))
        )
          problemsFound.push(`${p.channel}: disabled in OSS without a disable record`);
      }
      const plantedLeft = planted.filter((k) => all.has(k)).length;

      console.log(
        `[reliability/storm] seed ${seed}, ${CHANNELS} channels${REFUSE_VOD_WHEN_DISABLED ? ' (VOD refused on disabled channels)' : ''}, ${DAY_TICKS} ticks of ${TICK / MINUTE} min + ${recoveryTicks} clean; ${broadcasts} broadcasts, ${deleted.size} deleted; invocations ${counts.invocations}, failed ${counts.failed} (${JSON.stringify(Object.fromEntries(failures))}), async retries ${counts.asyncRetries}, async given up ${counts.asyncGaveUp}, api deletes ${counts.deletes} (${counts.deleteRetries} retried), re-enables ${reenables}; objects ${keys.length}, referenced segments checked ${referencedCount}, planted orphans left ${plantedLeft}/${planted.length}; problems ${problemsFound.length}; unhandled rejections ${problems.unhandledRejections.length}`,
      );
      expect(problemsFound).toEqual([]);
      expect(counts.failed).toBeGreaterThan(0); // the storm happened
      expect(problems.unhandledRejections).toEqual([]);
    } finally {
      await stack.stop();
      capture.stop();
      restoreBackoff();
    }
  }, 600_000);
}
void BUCKET;
