/**
 * Counting what each invocation costs (docs/cost.md): every OSS request the instance's client
 * sends is counted against the channel it was made for (`channelOfKey`), per operation, in the
 * invocation's meter (AsyncLocalStorage, so concurrent invocations of one instance never mix).
 * At its end an invocation adds its counts, duration and memory size to its instance's pending
 * batch; the instance writes the batch to each bucket's ledger at most once per
 * USAGE_FLUSH_INTERVAL_MS (as one create-once object per bucket and month), so counting costs a
 * bounded number of PUTs per instance rather than one per invocation. cleanup-orphans folds
 * them into monthly totals.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isToken } from '../ledger/keys';
import type { UsageBatchRecord } from '../ledger/records';
import { OVERHEAD, channelOfKey, foldUsage, monthOf, type UsageTotals } from '../lifecycle/cost';
import type { OssRequestInfo } from '../oss';
import type { FcContext, Instance, OperationContext } from './context';

/**
 * At most one usage flush per instance per this much of the injected clock (the first
 * invocation of an instance flushes at once). What an instance reclaimed by FC had not flushed
 * yet is lost: at most the invocations of one interval (docs/cost.md).
 */
export const USAGE_FLUSH_INTERVAL_MS = 60_000;
/** A batch holding this many invocations is flushed without waiting for the interval. */
export const USAGE_FLUSH_MAX_INVOCATIONS = 1000;
/**
 * Sealed records kept for retry while OSS refuses them (one more per interval at most); past
 * this the oldest is dropped and logged, so an instance cut off from OSS cannot grow without end.
 */
const MAX_UNWRITTEN_RECORDS = 100;

/** Counts of one invocation: bucket → channel → operation → requests. */
class UsageMeter {
  readonly counts = new Map<string, Record<string, Record<string, number>>>();

  constructor(private readonly ledgerPrefix: string) {}

  add(info: OssRequestInfo): void {
    let bucket = this.counts.get(info.bucket);
    if (!bucket) this.counts.set(info.bucket, (bucket = {}));
    const ops = (bucket[channelOfKey(info.subject, this.ledgerPrefix)] ??= {});
    ops[info.operation] = (ops[info.operation] ?? 0) + 1;
  }
}

const meters = new AsyncLocalStorage<UsageMeter>();

/** The OSS client's `onRequest` hook: counts the request in the running invocation's meter, if any. */
export function meterOssRequest(info: OssRequestInfo): void {
  meters.getStore()?.add(info);
}

interface Sealed {
  bucket: string;
  record: UsageBatchRecord;
}

/**
 * One instance's usage not yet in the ledger. `open` takes invocations as they end; a flush
 * seals it into records whose key and content never change afterwards, so a flush retried after
 * an unknown outcome (the PUT landed, the answer was lost) finds its own record (create-once)
 * and counts nothing twice. Records that could not be written wait in `unwritten` for the next
 * flush.
 */
class UsageBatch {
  /** bucket → month → what the open batch holds. */
  private open = new Map<string, Map<string, { startedAt: number; invocations: number; totals: UsageTotals }>>();
  private openInvocations = 0;
  private unwritten: Sealed[] = [];
  private lastFlushAt: number | undefined;
  private flushing = false;

  add(bucket: string, month: string, startedAt: number, totals: (into: UsageTotals) => void): void {
    let months = this.open.get(bucket);
    if (!months) this.open.set(bucket, (months = new Map()));
    let pending = months.get(month);
    if (!pending) months.set(month, (pending = { startedAt, invocations: 0, totals: {} }));
    pending.invocations++;
    totals(pending.totals);
  }

  countInvocation(): void {
    this.openInvocations++;
  }

  /** Whether to flush now: never while a flush is running, else once per interval or when large. */
  due(now: number): boolean {
    if (this.flushing) return false;
    if (this.openInvocations === 0 && this.unwritten.length === 0) return false;
    return (
      this.lastFlushAt === undefined ||
      now - this.lastFlushAt >= USAGE_FLUSH_INTERVAL_MS ||
      this.openInvocations >= USAGE_FLUSH_MAX_INVOCATIONS
    );
  }

  /**
   * Seals the open batch (synchronously: an invocation ending meanwhile goes to the next one);
   * answers how many of the oldest unwritten records it dropped to stay within bounds.
   */
  private seal(fn: string): number {
    for (const [bucket, months] of this.open)
      for (const [month, pending] of months) {
        // The record's own PUT, counted once: only the one PUT that creates it is answered 2xx.
        const overhead = (pending.totals[OVERHEAD] ??= { requests: {}, invocations: 0, gbSeconds: 0 });
        overhead.requests.PutObject = (overhead.requests.PutObject ?? 0) + 1;
        this.unwritten.push({
          bucket,
          record: {
            v: 2,
            month,
            batchId: randomUUID(),
            function: fn,
            startedAt: pending.startedAt,
            invocations: pending.invocations,
            totals: pending.totals,
          },
        });
      }
    this.open = new Map();
    this.openInvocations = 0;
    return this.unwritten.splice(0, Math.max(0, this.unwritten.length - MAX_UNWRITTEN_RECORDS)).length;
  }

  /** Writes every sealed record; those that fail stay for the next flush. Never throws. */
  async flush(op: OperationContext, fn: string): Promise<void> {
    this.flushing = true;
    this.lastFlushAt = op.clock.now();
    try {
      const dropped = this.seal(fn);
      if (dropped > 0)
        op.logger.warn(
          { records: dropped },
          'usage: dropped usage records OSS kept refusing (cost figures under-count them)',
        );
      const attempt = this.unwritten;
      this.unwritten = [];
      for (const sealed of attempt) {
        try {
          await op.bucket(sealed.bucket).ledger.cost.recordUsage(sealed.record);
        } catch (err) {
          this.unwritten.push(sealed);
          op.logger.warn({ err, bucket: sealed.bucket }, 'usage: could not record usage yet (kept for the next flush)');
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** Each instance's batch (module scope: FC reuses an instance for many invocations). */
const batches = new WeakMap<Instance, UsageBatch>();

/** FC's memory size for this function: the context's, else FC's environment, else FC 3.0's default. */
function memoryMb(context: FcContext): number {
  const fromContext = (context.function as { memory?: number } | undefined)?.memory;
  const fromEnv = Number(process.env.FC_FUNCTION_MEMORY_SIZE);
  return fromContext && fromContext > 0 ? fromContext : fromEnv > 0 ? fromEnv : 512;
}

/**
 * Runs one invocation's operation with a meter, then adds its usage to the instance's batch and
 * flushes the batch when due. Recording never fails the invocation (an unwritten batch is kept
 * for the next flush; logged). `onlyIfRequests`: count nothing when the invocation sent no OSS
 * request (the api: a refused or unauthenticated request must not make livecycle write to the
 * bucket).
 */
export async function metered<R>(
  instance: Instance,
  op: OperationContext,
  context: FcContext,
  run: () => Promise<R>,
  opts: { onlyIfRequests?: boolean } = {},
): Promise<R> {
  const meter = new UsageMeter(instance.config.ledgerPrefix);
  const startedAt = op.clock.now();
  const t0 = performance.now();
  try {
    return await meters.run(meter, run);
  } finally {
    if (!opts.onlyIfRequests || meter.counts.size > 0) {
      let batch = batches.get(instance);
      if (!batch) batches.set(instance, (batch = new UsageBatch()));
      const fn = isToken(op.functionName) ? op.functionName : instance.name;
      const durationMs = Math.round(performance.now() - t0);
      // An invocation that sent nothing still cost an invocation: it is the first bucket's overhead.
      if (meter.counts.size === 0) meter.counts.set(op.config.buckets[0] as string, {});
      for (const [bucket, requests] of meter.counts) {
        if (!op.config.buckets.includes(bucket)) continue;
        const invocation = { function: fn, startedAt, durationMs, memoryMb: memoryMb(context), requests };
        batch.add(bucket, monthOf(startedAt), startedAt, (totals) => foldUsage(totals, [invocation]));
      }
      batch.countInvocation();
      if (batch.due(op.clock.now())) await batch.flush(op, fn);
    }
  }
}
