/**
 * Counting what each invocation costs (docs/cost.md): every OSS request the instance's client
 * sends is counted against the channel it was made for (`channelOfKey`), per operation, in the
 * invocation's meter (AsyncLocalStorage, so concurrent invocations of one instance never mix);
 * at the end the invocation records its counts, duration and memory size in each bucket's ledger,
 * one create-once object per bucket. cleanup-orphans folds them into monthly totals.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isToken } from '../ledger/keys';
import { OVERHEAD, channelOfKey, monthOf } from '../lifecycle/cost';
import type { OssRequestInfo } from '../oss';
import type { FcContext, Instance, OperationContext } from './context';

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

/** FC's memory size for this function: the context's, else FC's environment, else FC 3.0's default. */
function memoryMb(context: FcContext): number {
  const fromContext = (context.function as { memory?: number } | undefined)?.memory;
  const fromEnv = Number(process.env.FC_FUNCTION_MEMORY_SIZE);
  return fromContext && fromContext > 0 ? fromContext : fromEnv > 0 ? fromEnv : 512;
}

/**
 * Runs one invocation's operation with a meter, then records its usage. Recording never fails
 * the invocation (a lost record under-counts one invocation; logged). The record's own PUT is
 * counted as overhead. `onlyIfRequests`: record nothing when the invocation sent no OSS request
 * (the api: a refused or unauthenticated request must not make livecycle write to the bucket).
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
    if (!opts.onlyIfRequests || meter.counts.size > 0)
      await recordUsage(op, meter, {
        startedAt,
        durationMs: Math.round(performance.now() - t0),
        memoryMb: memoryMb(context),
        fn: isToken(op.functionName) ? op.functionName : instance.name,
      });
  }
}

async function recordUsage(
  op: OperationContext,
  meter: UsageMeter,
  run: { startedAt: number; durationMs: number; memoryMb: number; fn: string },
): Promise<void> {
  const requestId = isToken(op.requestId) ? op.requestId : randomUUID();
  // An invocation that sent nothing still cost an invocation: it is the first bucket's overhead.
  if (meter.counts.size === 0) meter.counts.set(op.config.buckets[0] as string, {});
  for (const [bucket, requests] of meter.counts) {
    if (!op.config.buckets.includes(bucket)) continue;
    const overhead = (requests[OVERHEAD] ??= {});
    overhead.PutObject = (overhead.PutObject ?? 0) + 1;
    try {
      await op.bucket(bucket).ledger.cost.recordUsage({
        v: 1,
        month: monthOf(run.startedAt),
        requestId,
        function: run.fn,
        startedAt: run.startedAt,
        durationMs: run.durationMs,
        memoryMb: run.memoryMb,
        requests,
      });
    } catch (err) {
      op.logger.warn({ err, bucket }, 'usage: could not record this invocation’s usage (cost figures under-count it)');
    }
  }
}
