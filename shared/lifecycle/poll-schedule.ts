/**
 * Adaptive polling: which enabled channels one poll-stat tick asks OSS about.
 *
 * A channel that is live, waiting out its reconnect window, or active within the last
 * IDLE_AFTER (pushed, created or woken by the api or a snapshot) is asked every tick. An idle one
 * backs off along a ladder of intervals (1, 2, 5, … min, each rung held for POLLS_PER_RUNG of its
 * own intervals) up to POLL_IDLE_MAX_INTERVAL. Polls fall on a fixed grid per channel — the
 * first tick after each multiple of the interval, offset by the channel's phase — so the gap
 * between two polls never exceeds the current interval however ticks jitter or are missed,
 * and a shard's channels spread evenly over the ticks.
 *
 * Stat alone cannot see a push that starts and ends between two polls (it says Idle before and
 * after). GetLiveChannelHistory can, for the last 10 pushes, so every channel whose last Stat
 * said Idle with no broadcast open also reads History on a coarser grid, HISTORY_EVERY_POLLS
 * times the cap (30 min by default), aligned with its Stat grid so both fall on the same tick.
 */

/** poll-stat's timer period (s.yaml: every minute, FC's finest timer). */
export const POLL_TICK_MS = 60_000;
/** Back-off intervals in minutes below the cap; the configured cap ends the ladder. */
const LADDER_MINUTES = [1, 2, 5, 10, 15, 30, 60];
/** An idle channel stays on one rung for this many of that rung's intervals before backing off further. */
export const POLLS_PER_RUNG = 5;
/** History is read every this many cap intervals by channels that are idle (see above). */
export const HISTORY_EVERY_POLLS = 6;

export interface PollScheduleInput {
  now: number;
  /** The channel's place in [0, 1) on every grid (pollPhase), so channels spread over ticks. */
  phase: number;
  /** The poll state's last observation of the channel; undefined when never polled. */
  previous?: {
    status: 'Idle' | 'Live' | 'Disabled';
    /** A broadcast is open (its end not yet settled). */
    open: boolean;
    /** Last Stat of a backed-off channel (set only while backed off). */
    polledAt?: number;
    /** Last History read. */
    historyAt?: number;
  };
  /** Latest activity: the channel's creation/LastModified, its last broadcast's end, a wake. */
  activeAt: number;
  idleAfterMs: number;
  maxIdleIntervalMs: number;
}

export type PollReason = 'new' | 'live' | 'open' | 'active' | 'idle';

export interface PollDecision {
  /** Ask GetLiveChannelStat this tick. */
  stat: boolean;
  /** Read GetLiveChannelHistory this tick even if Stat shows no change. */
  history: boolean;
  /** The interval the channel is on (POLL_TICK_MS when polled every tick). */
  intervalMs: number;
  reason: PollReason;
}

/** The back-off interval after `idleForMs` past the active window. */
export function idleIntervalMs(idleForMs: number, maxIdleIntervalMs: number): number {
  let elapsed = 0;
  for (const minutes of LADDER_MINUTES) {
    const interval = minutes * 60_000;
    if (interval >= maxIdleIntervalMs) break;
    elapsed += POLLS_PER_RUNG * interval;
    if (idleForMs < elapsed) return interval;
  }
  return maxIdleIntervalMs;
}

/** Whether a multiple of `intervalMs` (shifted by the phase) lies in (since, now]. */
function crossed(since: number | undefined, now: number, intervalMs: number, phase: number): boolean {
  if (since === undefined) return true;
  const offset = Math.floor(phase * intervalMs);
  return Math.floor((now - offset) / intervalMs) > Math.floor((since - offset) / intervalMs);
}

export function pollDecision(input: PollScheduleInput): PollDecision {
  const { previous, now, phase } = input;
  const every = (reason: PollReason, history = false): PollDecision => ({
    stat: true,
    history,
    intervalMs: POLL_TICK_MS,
    reason,
  });
  // Never polled, or re-enabled since: Stat and History (the poll reconciles a changed status anyway).
  if (!previous || previous.status === 'Disabled') return every('new', true);
  if (previous.status === 'Live') return every('live');
  if (previous.open) return every('open');
  const historyInterval = HISTORY_EVERY_POLLS * input.maxIdleIntervalMs;
  const historyDue = crossed(previous.historyAt, now, historyInterval, phase);
  const idleFor = now - input.activeAt - input.idleAfterMs;
  if (idleFor < 0) return every('active', historyDue);
  const intervalMs = idleIntervalMs(idleFor, input.maxIdleIntervalMs);
  // The Stat grid's phase is the History grid's scaled down, so at the cap every History tick is also a Stat tick.
  const statPhase = (phase * HISTORY_EVERY_POLLS) % 1;
  const statDue = crossed(previous.polledAt, now, intervalMs, statPhase);
  return { stat: statDue || historyDue, history: historyDue, intervalMs, reason: 'idle' };
}

/** A stable phase in [0, 1) from the channel name (FNV-1a, then murmur3's finalizer so similar names spread). */
export function pollPhase(channel: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) hash = Math.imul(hash ^ channel.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return ((hash ^ (hash >>> 16)) >>> 0) / 2 ** 32;
}
