/**
 * A lifecycle driven the way FC drives it, on the emulator's clock: poll-stat every minute,
 * disable-idle every 5 minutes, generate-vod sweep every 10, cleanup-orphans hourly; async
 * invocations (poll-stat → generate-vod) run after each tick. Pushes are started/stopped on the
 * emulator with the publish URL the api handed out.
 */
import { BUCKET, api, timerEvent, type FunctionName, type Stack } from './harness';

export interface TickOptions {
  /** How many copies of each timer invocation run at once (overlap test). */
  copies?: number;
  /** How many times each async invocation is delivered (FC's async retry). */
  asyncTimes?: number;
  /** Called with each invocation failure (the timer simply runs again next tick, like FC). */
  onError?: (fn: string, err: unknown) => void;
}

export const MINUTE = 60_000;

/** The timers due at clock time `t` (ms since T0-aligned minute). */
export function dueTimers(minute: number): FunctionName[] {
  const due: FunctionName[] = ['poll-stat'];
  if (minute % 5 === 0) due.push('disable-idle');
  if (minute % 10 === 0) due.push('generate-vod');
  if (minute % 60 === 0) due.push('cleanup-orphans');
  return due;
}

export async function runTimer(stack: Stack, fn: FunctionName, opts: TickOptions = {}): Promise<void> {
  const copies = opts.copies ?? 1;
  const event = timerEvent(`${fn}-timer`, stack.clock.now());
  await Promise.all(
    Array.from({ length: copies }, () =>
      stack.invoke(fn, event).catch((err: unknown) => {
        opts.onError?.(fn, err);
      }),
    ),
  );
}

/** Advances `minutes` minutes, running the due timers at each minute and draining async work. */
export async function runMinutes(stack: Stack, minutes: number, opts: TickOptions = {}): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    await stack.clock.advance(MINUTE);
    const minute = Math.floor(stack.clock.now() / MINUTE);
    for (const fn of dueTimers(minute)) await runTimer(stack, fn, opts);
    const { failed } = await stack.drainAsync({ times: opts.asyncTimes ?? 1 });
    for (const err of failed) opts.onError?.('async', err);
  }
}

export async function createChannel(stack: Stack, name: string): Promise<string> {
  const res = await api(stack, { method: 'POST', path: '/channels', body: { name, fragDuration: 5, fragCount: 3 } });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.publishUrl as string;
}

export async function startPush(stack: Stack, channel: string, publishUrl?: string): Promise<void> {
  await stack.emu.ingest.start({ bucket: BUCKET, channel, ...(publishUrl ? { signedUrl: publishUrl } : {}) });
}

export async function stopPush(stack: Stack, channel: string): Promise<void> {
  await stack.emu.ingest.stop({ bucket: BUCKET, channel });
}
