/**
 * FC timer triggers on the controlled clock. FC's cronExpression is either 6-field cron with
 * seconds (UTC unless prefixed `CRON_TZ=<zone> `) or `@every <duration>` (reference §2.1);
 * cron-parser does the calendar arithmetic, the clock does the waiting, so advancing the clock
 * by a day fires every tick of that day in order.
 */
import { CronExpressionParser } from 'cron-parser';
import type { SchedulingClock } from '../../shared/clock';

export interface Schedule {
  /** The first firing time strictly after `afterMs`. */
  next(afterMs: number): number;
}

const EVERY = /^@every\s+((?:\d+h)?(?:\d+m)?(?:\d+s)?)$/;
const TZ_PREFIX = /^CRON_TZ=(\S+)\s+(.*)$/;
/** FC's minimum timer interval. */
const MIN_EVERY_MS = 60_000;

export class ScheduleError extends Error {
  constructor(expression: string, reason: string) {
    super(`cron expression "${expression}": ${reason}`);
    this.name = 'ScheduleError';
  }
}

/**
 * Parses an FC timer expression. `@every` intervals count from `originMs` (when the trigger
 * was created — locally, when the runtime started).
 */
export function parseSchedule(expression: string, originMs: number): Schedule {
  const every = EVERY.exec(expression.trim());
  if (every) {
    const intervalMs = everyMs(every[1]!);
    if (intervalMs < MIN_EVERY_MS) throw new ScheduleError(expression, 'FC timers fire at most once a minute');
    return { next: (afterMs) => originMs + (Math.floor((afterMs - originMs) / intervalMs) + 1) * intervalMs };
  }
  const tzMatch = TZ_PREFIX.exec(expression.trim());
  const tz = tzMatch?.[1] ?? 'UTC';
  const cron = (tzMatch?.[2] ?? expression).trim();
  const fields = cron.split(/\s+/);
  if (fields.length !== 6)
    throw new ScheduleError(
      expression,
      `FC cron has 6 fields (second minute hour day month weekday), got ${fields.length}`,
    );
  try {
    // Parse once now so a bad expression fails at startup, not at the first tick.
    CronExpressionParser.parse(cron, { tz, currentDate: new Date(originMs) });
  } catch (err) {
    throw new ScheduleError(expression, (err as Error).message);
  }
  return {
    next: (afterMs) =>
      CronExpressionParser.parse(cron, { tz, currentDate: new Date(afterMs) })
        .next()
        .getTime(),
  };
}

function everyMs(duration: string): number {
  let ms = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)([hms])/g))
    ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000 }[unit as 'h' | 'm' | 's'];
  return ms;
}

/**
 * Calls `fire(atMs)` at every time of `schedule` from now on, until the returned function is
 * called. Each next time is computed from the previous tick (not from "now"), so a clock that
 * jumps forward still produces every tick in between.
 */
export function runSchedule(clock: SchedulingClock, schedule: Schedule, fire: (atMs: number) => void): () => void {
  let cancel = () => {};
  let stopped = false;
  const arm = (afterMs: number) => {
    const atMs = schedule.next(afterMs);
    cancel = clock.at(atMs, () => {
      if (stopped) return;
      arm(atMs);
      fire(atMs);
    });
  };
  arm(clock.now());
  return () => {
    stopped = true;
    cancel();
  };
}
