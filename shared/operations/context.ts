/**
 * What every operation runs with. A function instance builds its `Instance` once, on its first
 * invocation (so the local runtime's per-function environment applies), and an
 * `OperationContext` per invocation: the invocation's STS credentials, request id, deadline.
 * Tests build the very same objects with `createInstance(name, env)`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { currentClock, type Clock, type SchedulingClock } from '../clock';
import { loadConfig, type Config, type Env } from '../config';
import { createLogger, invocationLogger, registerSecret, type Logger } from '../log';
import { Ledger } from '../ledger';
import { OssClient, envCredentials, type Credentials, type CredentialsProvider, type OssBucket } from '../oss';
import { currentInvoker, type AsyncInvoker, type InvokerContext } from '../platform';
import { Webhooks } from '../webhooks';
import { meterOssRequest } from './usage';

export { mapConcurrent } from '../concurrency';

/** The part of FC's `context` the operations read (function-compute.md §1.3). */
export interface FcContext extends InvokerContext {
  requestId?: string;
  function?: { name?: string; timeout?: number };
}

/** One function instance's long-lived parts. */
export interface Instance {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  /** One client (and connection pool) per instance; credentials are swapped per invocation. */
  readonly oss: OssClient;
  /** Called at the start of each invocation with that invocation's credentials. */
  useCredentials(context: FcContext): void;
}

/** One bucket as the operations see it: LiveChannels and objects, its ledger and its webhooks. */
export interface BucketScope {
  readonly name: string;
  readonly oss: OssBucket;
  readonly ledger: Ledger;
  readonly webhooks: Webhooks;
}

export interface OperationContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly requestId: string;
  /** This function's own name, for invoking itself (poll-stat shards). */
  readonly functionName: string;
  /** Epoch ms by `clock` after which the invocation should wrap up (FC kills it at its timeout). */
  readonly deadline: number;
  readonly clock: Clock;
  readonly invoker: AsyncInvoker;
  bucket(name: string): BucketScope;
}

/** Without FC's timeout in the context, assume the shortest configured one (api, 30 s). */
const DEFAULT_TIMEOUT_SECONDS = 30;
/** Leave this much of the FC timeout for answering and logging. */
const DEADLINE_MARGIN_MS = 3_000;

/**
 * Credentials that follow the latest invocation: FC hands every invocation fresh STS keys of
 * the same role, so whichever is current signs; without them, the environment's keys.
 */
class InvocationCredentials implements CredentialsProvider {
  private current: Credentials | undefined;
  private readonly fallback: CredentialsProvider;

  constructor(env: Env) {
    this.fallback = envCredentials(env as NodeJS.ProcessEnv);
  }

  use(context: FcContext): void {
    const c = context.credentials;
    if (!c?.accessKeyId || !c.accessKeySecret) return;
    registerSecret(c.accessKeySecret);
    registerSecret(c.securityToken);
    this.current = c.securityToken
      ? { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken }
      : { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret };
  }

  async getCredentials(): Promise<Credentials> {
    return this.current ?? this.fallback.getCredentials();
  }
}

export function createInstance(name: string, env: Env = process.env): Instance {
  const config = loadConfig(env);
  const logger = createLogger({ name, level: config.logLevel });
  const credentials = new InvocationCredentials(env);
  const oss = new OssClient({
    endpoint: config.ossEndpoint,
    region: config.ossRegion,
    pathStyle: config.ossPathStyle,
    rtmpEndpoint: config.ossRtmpEndpoint,
    timeoutMs: config.ossTimeoutMs,
    credentials,
    logger,
    onRequest: meterOssRequest,
  });
  return { name, config, logger, oss, useCredentials: (context) => credentials.use(context) };
}

/** The context of one invocation. Ledgers and webhooks are cheap views, built per bucket on demand. */
export function createOperationContext(
  instance: Instance,
  context: FcContext = {},
  requestId = context.requestId ?? '',
): OperationContext {
  instance.useCredentials(context);
  const clock = currentClock();
  const logger = invocationLogger(instance.logger, requestId);
  const timeoutMs = (context.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const scopes = new Map<string, BucketScope>();
  const { config } = instance;
  return {
    config,
    logger,
    requestId,
    functionName: context.function?.name ?? process.env.FC_FUNCTION_NAME ?? instance.name,
    deadline: clock.now() + Math.max(timeoutMs - DEADLINE_MARGIN_MS, timeoutMs / 2),
    clock,
    invoker: currentInvoker(context),
    bucket(name) {
      let scope = scopes.get(name);
      if (!scope) {
        const oss = instance.oss.bucket(name);
        const ledger = new Ledger(oss, config.ledgerPrefix);
        const webhooks = new Webhooks({
          ledger,
          bucket: name,
          url: config.webhookUrl,
          secrets: config.webhookSecrets,
          logger,
        });
        scopes.set(name, (scope = { name, oss, ledger, webhooks }));
      }
      return scope;
    },
  };
}

/**
 * Waits `ms` of lifecycle time: on the installed clock when it can schedule (the local runtime
 * and tests drive it), else in real time (deployed, where the clock is the system clock).
 */
export async function sleepOnClock(clock: Clock, ms: number): Promise<void> {
  const scheduling = clock as Partial<SchedulingClock>;
  if (typeof scheduling.sleepUntil === 'function') return scheduling.sleepUntil(clock.now() + ms);
  await sleep(ms);
}
