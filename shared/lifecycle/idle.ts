/** Whether disable-idle should disable a channel. */
import { DEFAULT_SKEW_TOLERANCE_MS, minimumElapsedMs } from './time';

export const DEFAULT_IDLE_AFTER_MS = 30 * 60_000;

export interface IdleInput {
  /** Configured status (ListLiveChannel / GetLiveChannelInfo), not the push state. */
  status: 'enabled' | 'disabled';
  /** GetLiveChannelStat says Live. */
  live: boolean;
  /** When the channel was created. */
  createdAt: number;
  /**
   * End of the latest broadcast (OSS time). If the last push's end is not yet known, pass the
   * time it was last seen live, so a push that just stopped still counts as recent activity.
   */
  lastBroadcastEnd?: number;
  now: number;
  idleAfterMs?: number;
  /** See `minimumElapsedMs` in time.ts. */
  skewToleranceMs?: number;
}

export interface IdleDecision {
  disable: boolean;
  reason: 'live' | 'already-disabled' | 'recently-active' | 'idle';
  /** Start of the current idle stretch: the later of creation and the last broadcast end. */
  idleSince: number;
}

/**
 * Never disables a live channel (that would cut a broadcast) or an already-disabled one
 * (nothing to do, and a repeat must be a no-op). Otherwise disables once `idleAfterMs` has
 * surely passed since `idleSince` — exactly `idleAfterMs` counts as idle — allowing for our
 * clock running ahead of OSS's.
 */
export function idleDecision(input: IdleInput): IdleDecision {
  const idleSince = Math.max(input.createdAt, input.lastBroadcastEnd ?? -Infinity);
  if (input.live) return { disable: false, reason: 'live', idleSince };
  if (input.status === 'disabled') return { disable: false, reason: 'already-disabled', idleSince };
  const idleFor = minimumElapsedMs(idleSince, input.now, input.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS);
  return idleFor >= (input.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS)
    ? { disable: true, reason: 'idle', idleSince }
    : { disable: false, reason: 'recently-active', idleSince };
}
