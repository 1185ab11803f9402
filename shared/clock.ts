/**
 * One clock for the whole product. Every "now" in functions, the emulator and the local runtime
 * comes from a Clock, so tests and `npm start -- --demo` can run a day of lifecycle in
 * milliseconds. Times are epoch milliseconds throughout.
 */
export interface Clock {
  now(): number;
}

/** A clock that can also wake callers at a point in its own time (fragment cadence, cron). */
export interface SchedulingClock extends Clock {
  /** Runs `fn` once the clock reads at least `atMs`. Returns a function that cancels it. */
  at(atMs: number, fn: () => void): () => void;
  /** Resolves once the clock reads at least `atMs` (or rejects with the signal's reason). */
  sleepUntil(atMs: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

const PLATFORM = Symbol.for('livecycle.platform.clock');
type ClockHolder = { [PLATFORM]?: Clock };

/**
 * Installs the process-wide clock. The local runtime calls this before it loads the function
 * bundles; each bundle carries its own copy of this module, so the clock lives in the global
 * symbol registry, which every copy shares.
 */
export function installClock(clock: Clock | undefined): void {
  (globalThis as ClockHolder)[PLATFORM] = clock;
}

/** The installed clock, or the system clock when nothing was installed (deployed on FC). */
export function currentClock(): Clock {
  return (globalThis as ClockHolder)[PLATFORM] ?? systemClock;
}

export interface ControlledClockOptions {
  /** Clock reading at creation; defaults to the real time. */
  startMs?: number;
  /** Clock milliseconds per real millisecond; 0 freezes it (tests advance it by hand). */
  rate?: number;
}

/**
 * A clock that runs at `rate` × real time from a settable origin, and can be set or advanced.
 * Timers fire in time order; advancing fires everything that became due, in order, before
 * `advance` resolves, so a test can step a day at once and see every tick.
 */
export class ControlledClock implements SchedulingClock {
  private originMs: number;
  private realOriginMs: number;
  private rateValue: number;
  private timers: { atMs: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  private wake: NodeJS.Timeout | undefined;

  constructor(opts: ControlledClockOptions = {}) {
    this.realOriginMs = Date.now();
    this.originMs = opts.startMs ?? this.realOriginMs;
    this.rateValue = opts.rate ?? 1;
  }

  now(): number {
    return Math.floor(this.originMs + (Date.now() - this.realOriginMs) * this.rateValue);
  }

  get rate(): number {
    return this.rateValue;
  }

  /** Changes the speed without a jump in the reading. */
  setRate(rate: number): void {
    if (!(rate >= 0) || !Number.isFinite(rate))
      throw new RangeError(`clock rate must be a finite number >= 0, got ${rate}`);
    this.rebase(this.now());
    this.rateValue = rate;
    this.arm();
  }

  /** Jumps to `ms` (forward or back) and fires whatever became due. */
  async set(ms: number): Promise<void> {
    if (!Number.isFinite(ms)) throw new RangeError(`clock time must be finite, got ${ms}`);
    this.rebase(ms);
    await this.fireDue();
  }

  /** Moves forward by `ms`, firing due timers in order, each at its own time. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`clock advance must be >= 0, got ${ms}`);
    const target = this.now() + ms;
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.atMs > target) break;
      this.rebase(Math.max(this.now(), next.atMs));
      await this.fireDue();
    }
    this.rebase(Math.max(this.now(), target));
    await this.fireDue();
  }

  at(atMs: number, fn: () => void): () => void {
    const timer = { atMs, seq: this.seq++, fn };
    this.timers.push(timer);
    this.arm();
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
      this.arm();
    };
  }

  sleepUntil(atMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.at(atMs, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        cancel();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Cancels the real-time wake-up so the process can exit; pending timers stay registered. */
  unref(): void {
    this.wake?.unref();
  }

  private rebase(ms: number): void {
    this.originMs = ms;
    this.realOriginMs = Date.now();
  }

  private nextTimer() {
    let best: (typeof this.timers)[number] | undefined;
    for (const t of this.timers)
      if (!best || t.atMs < best.atMs || (t.atMs === best.atMs && t.seq < best.seq)) best = t;
    return best;
  }

  private async fireDue(): Promise<void> {
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.atMs > this.now()) break;
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
      // Let callbacks' promise chains run before the next timer, as real time would.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.arm();
  }

  private arm(): void {
    if (this.wake) clearTimeout(this.wake);
    this.wake = undefined;
    const next = this.nextTimer();
    if (!next) return;
    // A timer already due fires on the next turn even on a frozen clock (sleepUntil(now)).
    if (next.atMs <= this.now()) {
      this.wake = setTimeout(() => void this.fireDue(), 0);
      return;
    }
    if (this.rateValue === 0) return;
    const realDelay = Math.max(0, (next.atMs - this.now()) / this.rateValue);
    this.wake = setTimeout(() => void this.fireDue(), Math.min(realDelay, 2 ** 31 - 1));
  }
}
