/**
 * Runs one function's bundle as FC does: `handler(event: Buffer, context)` in a warm instance,
 * with the function's environment, a timeout on the clock, FC's result conversion, and async
 * invocations retried per asyncInvokeConfig.
 *
 * Instances: FC 3.0 gives a Node instance one request at a time and starts another instance for
 * a concurrent request, so module-level state is per instance. Locally an instance is one fresh
 * evaluation of dist/<fn>/index.js; idle instances are reused (warm), a concurrent invocation
 * gets a new one, and an instance whose invocation timed out is discarded because FC kills it.
 *
 * Async concurrency: FC queues async invocations and runs them as capacity allows (reference
 * §1.7). Locally each function runs at most `asyncConcurrency` async attempts at once (default
 * DEFAULT_ASYNC_CONCURRENCY, RuntimeOptions.asyncConcurrency or LIVECYCLE_LOCAL_ASYNC_CONCURRENCY);
 * the rest wait FIFO, and an attempt's timeout starts when it starts running. Retries re-enter
 * the queue at the back. Synchronous invocations (HTTP, MNS, `invoke`) and timer-trigger
 * invocations (invokeAsync with `uncapped`) bypass the queue.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import type { SchedulingClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { createContext, type StsCredentials } from './context';
import { resultBytes } from './events';
import { scopes, type InvocationScope } from './scope';
import type { FunctionSpec } from './syaml';

export type Handler = (event: Buffer, context: unknown) => unknown;

export type InvocationErrorType = 'UnhandledInvocationError' | 'FunctionTimeout';

export interface InvocationOutcome {
  requestId: string;
  fn: string;
  status: 'succeeded' | 'failed';
  /** What the handler returned (the HTTP trigger maps it); undefined on failure. */
  value?: unknown;
  /** The result as FC returns it to a synchronous caller (§1.2), or the error JSON. */
  payload: Buffer;
  error?: { type: InvocationErrorType; message: string };
  /** Clock milliseconds the invocation took. */
  durationMs: number;
}

export interface AsyncOutcome {
  requestId: string;
  status: 'succeeded' | 'failed' | 'expired' | 'cancelled';
  attempts: number;
  last?: InvocationOutcome;
}

export interface AsyncInvocation {
  requestId: string;
  /** Settles after the last attempt (success, retries exhausted, event too old, or runtime stopped). */
  completion: Promise<AsyncOutcome>;
}

export interface FunctionHostOptions {
  distDir: string;
  clock: SchedulingClock;
  accountId: string;
  credentials: () => Promise<StsCredentials>;
  /** Replacements for variables the function declares in s.yaml. */
  envOverrides: Record<string, string>;
  /** Variables the local platform adds to every instance, besides FC's own (e.g. LIVECYCLE_FC_ENDPOINT). */
  platformEnv?: Record<string, string>;
  logDestination: DestinationStream;
  logLevel: string;
  /** Max async attempts of this function running at once; the rest queue FIFO. */
  asyncConcurrency?: number;
}

/** Async attempts one function runs at once unless configured otherwise. */
export const DEFAULT_ASYNC_CONCURRENCY = 4;

/** FC's async payload limit (reference §1.6). */
export const ASYNC_PAYLOAD_LIMIT = 128 * 1024;
/** Delay before async retry n (1-based): 1 s, 2 s, 4 s … capped; FC does not document its own. */
const retryDelayMs = (retry: number) => Math.min(1000 * 2 ** (retry - 1), 5 * 60_000);

interface Instance {
  id: string;
  handler: Handler;
  env: Record<string, string>;
}

export class FunctionHost {
  readonly file: string;
  private readonly exportName: string;
  private readonly idle: Instance[] = [];
  /** The function's logger; context.logger and the runtime's own lines derive from it. */
  private readonly fnLog: Logger;
  private readonly log: Logger;
  private readonly running = new Set<Promise<unknown>>();
  private readonly retryTimers = new Set<() => void>();
  private stopped = false;
  private readonly asyncCap: number;
  private asyncActive = 0;
  /** Async attempts waiting for a slot, FIFO; each is woken with true (run) or false (stopped). */
  private readonly asyncQueue: ((run: boolean) => void)[] = [];

  constructor(
    readonly spec: FunctionSpec,
    private readonly opts: FunctionHostOptions,
  ) {
    const dot = spec.handler.lastIndexOf('.');
    if (dot <= 0) throw new Error(`function ${spec.name}: handler "${spec.handler}" must be <file>.<export>`);
    this.file = resolve(opts.distDir, spec.name, `${spec.handler.slice(0, dot)}.js`);
    this.exportName = spec.handler.slice(dot + 1);
    if (!existsSync(this.file))
      throw new Error(`function ${spec.name}: ${this.file} does not exist (run \`npm run build\`)`);
    this.fnLog = createLogger({ name: spec.name, destination: opts.logDestination, level: opts.logLevel });
    this.log = this.fnLog.child({ origin: 'runtime' });
    const cap = opts.asyncConcurrency ?? DEFAULT_ASYNC_CONCURRENCY;
    if (!Number.isInteger(cap) || cap < 1)
      throw new Error(`function ${spec.name}: async concurrency must be an integer >= 1, got ${cap}`);
    this.asyncCap = cap;
  }

  /** Loads one instance now so a broken bundle fails at startup; it stays warm for the first call. */
  warm(): void {
    this.idle.push(this.load());
  }

  /**
   * A synchronous invocation: runs now, resolves with the outcome (never rejects). `trigger` says
   * what invoked it (e.g. `http POST /channels`); it is logged with the invocation's start and end.
   */
  async invoke(event: Buffer, requestId: string = randomUUID(), trigger = 'invoke'): Promise<InvocationOutcome> {
    const run = this.run(event, requestId, trigger);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /**
   * An asynchronous invocation (timer triggers, InvokeFunction with x-fc-invocation-type Async):
   * queued and run when one of the function's async slots is free (FIFO); a failed attempt is retried up to
   * maxAsyncRetryAttempts times on the
   * clock with the same request id, unless the event is older than maxAsyncEventAgeInSeconds.
   */
  invokeAsync(
    event: Buffer,
    requestId: string = randomUUID(),
    opts: { uncapped?: boolean; trigger?: string } = {},
  ): AsyncInvocation {
    const trigger = opts.trigger ?? 'async';
    if (event.length > ASYNC_PAYLOAD_LIMIT)
      throw new Error(
        `function ${this.spec.name}: async payload is ${event.length} bytes, FC's limit is ${ASYNC_PAYLOAD_LIMIT}`,
      );
    const { maxAsyncRetryAttempts, maxAsyncEventAgeInSeconds } = this.spec.asyncInvokeConfig;
    const queuedAt = this.opts.clock.now();
    const completion = new Promise<AsyncOutcome>((settle) => {
      const attempt = async (n: number): Promise<void> => {
        if (this.stopped) return settle({ requestId, status: 'cancelled', attempts: n - 1 });
        const label = n === 1 ? trigger : `${trigger} (retry ${n - 1})`;
        const last = opts.uncapped
          ? await this.invoke(event, requestId, label)
          : await this.invokeQueued(event, requestId, label);
        if (!last) return settle({ requestId, status: 'cancelled', attempts: n - 1 });
        if (last.status === 'succeeded') return settle({ requestId, status: 'succeeded', attempts: n, last });
        if (n > maxAsyncRetryAttempts) {
          this.log.error({ requestId, attempts: n }, 'async invocation failed; retries exhausted');
          return settle({ requestId, status: 'failed', attempts: n, last });
        }
        const at = this.opts.clock.now() + retryDelayMs(n);
        if (at - queuedAt > maxAsyncEventAgeInSeconds * 1000) {
          this.log.error(
            { requestId, attempts: n },
            'async invocation dropped; event older than maxAsyncEventAgeInSeconds',
          );
          return settle({ requestId, status: 'expired', attempts: n, last });
        }
        this.log.warn(
          { requestId, attempt: n, retryAt: new Date(at).toISOString() },
          'async invocation failed; will retry',
        );
        const cancel = this.opts.clock.at(at, () => {
          this.retryTimers.delete(cancel);
          void attempt(n + 1);
        });
        this.retryTimers.add(() => {
          cancel();
          settle({ requestId, status: 'cancelled', attempts: n, last });
        });
      };
      void attempt(1);
    });
    return { requestId, completion };
  }

  /** Whether an invocation of this function is running or queued (scheduled retries don't count). */
  get busy(): boolean {
    return this.running.size > 0 || this.asyncQueue.length > 0;
  }

  /**
   * One async attempt: waits FIFO for a slot, then runs (its timeout starts then). The wait is
   * tracked in `running` so settled() covers queued attempts. Undefined if stopped while queued.
   */
  private invokeQueued(event: Buffer, requestId: string, trigger: string): Promise<InvocationOutcome | undefined> {
    const attempt = (async () => {
      if (this.asyncActive >= this.asyncCap) {
        if (!(await new Promise<boolean>((wake) => this.asyncQueue.push(wake)))) return undefined;
      } else {
        this.asyncActive++;
      }
      // The slot is held here (taken above or handed over by release).
      try {
        return await this.run(event, requestId, trigger);
      } finally {
        this.releaseAsyncSlot();
      }
    })();
    this.running.add(attempt);
    const done = () => void this.running.delete(attempt);
    attempt.then(done, done);
    return attempt;
  }

  /** Hands the slot to the next queued attempt, or frees it. */
  private releaseAsyncSlot(): void {
    const next = this.stopped ? undefined : this.asyncQueue.shift();
    if (next) next(true);
    else this.asyncActive--;
  }

  /** Resolves once the invocations running now have finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  stop(): void {
    this.stopped = true;
    for (const wake of this.asyncQueue.splice(0)) wake(false);
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
  }

  private async run(event: Buffer, requestId: string, trigger: string): Promise<InvocationOutcome> {
    const { clock } = this.opts;
    const started = clock.now();
    const log = this.log.child({ requestId, trigger });
    // The deadline is set before anything is awaited: the function's clock starts at the call.
    const abort = new AbortController();
    const timedOut = new Promise<'timeout'>((fire) => {
      clock.sleepUntil(started + this.spec.timeout * 1000, abort.signal).then(
        () => fire('timeout'),
        () => {},
      );
    });
    const instance = this.idle.pop() ?? this.load();
    const credentials = await this.opts.credentials();
    instance.env.ALIBABA_CLOUD_ACCESS_KEY_ID = credentials.accessKeyId;
    instance.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = credentials.accessKeySecret;
    instance.env.ALIBABA_CLOUD_SECURITY_TOKEN = credentials.securityToken;
    const scope: InvocationScope = { fn: this.spec.name, requestId, env: instance.env };
    const context = createContext({
      fn: this.spec,
      requestId,
      credentials,
      accountId: this.opts.accountId,
      logger: this.fnLog.child({ requestId }),
    });
    log.info({ instance: instance.id }, `FC Invoke Start RequestId: ${requestId}`);

    const call = scopes.run(scope, () => Promise.resolve().then(() => instance.handler(event, context)));
    const winner = await Promise.race([
      call.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      timedOut,
    ]);
    abort.abort();
    const durationMs = clock.now() - started;

    let outcome: InvocationOutcome;
    if (winner === 'timeout') {
      // The handler keeps running in this process, but FC would have killed the instance: drop
      // it so the next invocation starts cold, and swallow whatever the orphan settles with.
      call.catch(() => {});
      const message = `Function timed out after ${this.spec.timeout} seconds (maxMemoryUsage: n/a locally)`;
      outcome = failure(requestId, this.spec.name, 'FunctionTimeout', message, durationMs);
    } else if ('error' in winner) {
      this.idle.push(instance);
      const err = winner.error instanceof Error ? winner.error : new Error(String(winner.error));
      outcome = failure(requestId, this.spec.name, 'UnhandledInvocationError', err.message, durationMs, err.name);
      log.error({ err }, 'handler threw');
    } else {
      this.idle.push(instance);
      outcome = {
        requestId,
        fn: this.spec.name,
        status: 'succeeded',
        value: winner.value,
        payload: resultBytes(winner.value),
        durationMs,
      };
    }
    log[outcome.status === 'succeeded' ? 'info' : 'error'](
      { status: outcome.status, durationMs, ...(outcome.error ? { errorType: outcome.error.type } : {}) },
      `FC Invoke End RequestId: ${requestId}`,
    );
    return outcome;
  }

  private load(): Instance {
    const id = randomUUID();
    const env: Record<string, string> = { ...this.systemEnv(id), ...this.environment() };
    const require = createRequire(join(this.opts.distDir, 'noop.js'));
    // A fresh evaluation per instance: module state must not leak between instances.
    delete require.cache[this.file];
    const mod = scopes.run({ fn: this.spec.name, env }, () => require(this.file) as Record<string, unknown>);
    delete require.cache[this.file];
    const handler = mod[this.exportName];
    if (typeof handler !== 'function')
      throw new Error(`function ${this.spec.name}: ${this.file} does not export a function "${this.exportName}"`);
    return { id, handler: handler as Handler, env };
  }

  /** The function's own variables as its instances see them: s.yaml's values with the local overrides. */
  environment(): Record<string, string> {
    const env = { ...this.spec.environmentVariables };
    for (const [k, v] of Object.entries(this.opts.envOverrides)) if (k in env) env[k] = v;
    return env;
  }

  /** The variables FC sets in every instance (reference §1.4); credentials are set per call. */
  private systemEnv(instanceId: string): Record<string, string> {
    return {
      FC_FUNC_CODE_PATH: join(this.opts.distDir, this.spec.name),
      FC_ACCOUNT_ID: this.opts.accountId,
      FC_FUNCTION_HANDLER: this.spec.handler,
      FC_FUNCTION_MEMORY_SIZE: String(this.spec.memorySize),
      FC_FUNCTION_NAME: this.spec.functionName,
      FC_REGION: this.spec.region,
      FC_INSTANCE_ID: instanceId,
      FC_RUNTIME: this.spec.runtime,
      FC_TIMEOUT: String(this.spec.timeout),
      ...this.opts.platformEnv,
    };
  }
}

function failure(
  requestId: string,
  fn: string,
  type: InvocationErrorType,
  message: string,
  durationMs: number,
  errorName?: string,
): InvocationOutcome {
  return {
    requestId,
    fn,
    status: 'failed',
    error: { type, message },
    payload: Buffer.from(JSON.stringify({ errorMessage: message, errorType: errorName ?? type })),
    durationMs,
  };
}
