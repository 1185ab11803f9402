/**
 * The local Function Compute: boots every function declared in s.yaml from its built bundle and
 * serves its triggers — timers on the controlled clock, MNS topic subscriptions on the
 * emulator's TopicHub, the HTTP trigger on a local port — plus async invocation: in-process, or
 * (with `fcApi`) through FC's InvokeFunction API served locally (fc-api.ts), which the functions
 * then call with the production invoker, @alicloud/fc2 over HTTP.
 *
 * Process-wide seams it installs (global symbol registry, shared by every bundle's copy of
 * shared/): the clock (shared/clock.ts), the async invoker (shared/platform.ts) and the log
 * destination (logstream.ts). `process.env` becomes a per-function view (scope.ts).
 */
import type { SchedulingClock } from '../../shared/clock';
import { installClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { installInvoker, payloadBytes } from '../../shared/platform';
import type { TopicHub } from '../emulator/types';
import { credentialCache, type MintCredentials } from './context';
import { timerEvent } from './events';
import { serveHttpTrigger, type HttpTriggerServer } from './http';
import { serveFcApi, type SecretResolver } from './fc-api';
import { DEFAULT_ASYNC_CONCURRENCY, FunctionHost, type AsyncInvocation, type InvocationOutcome } from './invoke';
import { createLogStream, installLogDestination, type LineSink } from './logstream';
import { subscribeTrigger, type MnsDelivery } from './mns';
import { parseSchedule, runSchedule } from './scheduler';
import { installEnvIsolation } from './scope';
import { loadSYaml, type FunctionSpec, type TriggerSpec } from './syaml';

export type { FunctionSpec, TriggerSpec } from './syaml';
export type { InvocationOutcome, AsyncInvocation, AsyncOutcome } from './invoke';
export type { MnsDelivery } from './mns';
export type { StsCredentials, MintCredentials, FcContext } from './context';

export interface RuntimeOptions {
  sYamlPath: string;
  /** Where dist/<fn>/index.js bundles live. */
  distDir: string;
  clock: SchedulingClock;
  /** The emulator's topics; required when s.yaml declares an mns_topic trigger. */
  topics?: TopicHub;
  /** Mints the STS credentials handed to functions as context.credentials (emulator's mintSts). */
  mintCredentials: MintCredentials;
  /** Local values for variables the functions declare in s.yaml (e.g. OSS_ENDPOINT → emulator). */
  env?: Record<string, string>;
  /** Environment used to resolve `${env('X', 'd')}` in s.yaml; defaults to process.env. */
  sYamlEnv?: Record<string, string | undefined>;
  /** HTTP trigger port; 0 (default) picks a free one. */
  port?: number;
  /** Receives every log line (JSON, no newline); defaults to stdout. */
  logSink?: LineSink;
  logLevel?: string;
  /** Account id in contexts and MNS envelopes; defaults to s.yaml `vars.accountId`. */
  accountId?: string;
  /** Randomness for MNS back-off jitter; tests pin it. */
  random?: () => number;
  onMnsSettled?: (delivery: MnsDelivery) => void;
  /**
   * Async invocations each function runs at once; further ones queue FIFO and their timeout
   * starts when they start (FC's capacity limits, reference §1.7). Default: the
   * LIVECYCLE_LOCAL_ASYNC_CONCURRENCY environment variable, else 4. Sync (invoke, HTTP, MNS) and
   * timer-trigger invocations are not capped.
   */
  asyncConcurrency?: number;
  /** false: load the functions but serve no trigger (one-shot `livecycle invoke`). Default true. */
  serveTriggers?: boolean;
  /**
   * Serve FC's InvokeFunction API (port 0 picks a free one), verifying FC signatures with
   * `resolveSecret`. The functions' own async invocations then take the deployed path: shared/platform.ts's
   * fc2 invoker, pointed at this server by LIVECYCLE_FC_ENDPOINT; no in-process invoker is installed.
   */
  fcApi?: { port?: number; resolveSecret: SecretResolver };
  /**
   * Checks each function's environment (s.yaml values with `env` applied) before anything loads or
   * serves; throws to refuse it. Every function's refusal is collected into one startup error
   * naming the function. livecycle's stack passes shared/config.ts's loadConfig.
   */
  checkEnvironment?: (fn: FunctionSpec, env: Readonly<Record<string, string>>) => void;
}

export interface TriggerInfo {
  fn: string;
  trigger: TriggerSpec;
}

export interface Runtime {
  /** Base URL of the HTTP trigger, when a function declares one. */
  httpUrl?: string;
  /** Base URL of the local InvokeFunction API, when `fcApi` was given. */
  fcApiUrl?: string;
  functions: FunctionSpec[];
  triggers: TriggerInfo[];
  /** Synchronous invocation; `fn` is the short name, FC functionName or s.yaml resource id. */
  invoke(fn: string, event: Buffer): Promise<InvocationOutcome>;
  /** Asynchronous invocation with FC's retries; payload converted as shared/platform does. */
  invokeAsync(fn: string, payload: unknown): AsyncInvocation;
  /** Resolves when no invocation is running. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const spec = loadSYaml(opts.sYamlPath, opts.sYamlEnv);
  const sink = opts.logSink ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const logDestination = createLogStream(sink);
  const logLevel = opts.logLevel ?? 'info';
  const log = createLogger({ name: 'runtime', destination: logDestination, level: logLevel });
  const accountId = opts.accountId ?? String(spec.vars.accountId ?? '1234567890123456');
  const { clock } = opts;
  const asyncConcurrency =
    opts.asyncConcurrency ?? asyncConcurrencyFromEnv(process.env.LIVECYCLE_LOCAL_ASYNC_CONCURRENCY);

  installClock(clock);
  installEnvIsolation();
  const restoreLogDestination = installLogDestination(logDestination);
  const credentials = credentialCache(opts.mintCredentials, clock);
  const envOverrides = opts.env ?? {};
  const declared = new Set(spec.functions.flatMap((f) => Object.keys(f.environmentVariables)));
  for (const key of Object.keys(envOverrides))
    if (!declared.has(key)) log.warn({ key }, 'local env override is not declared by any function in s.yaml; ignored');

  const hosts = new Map<string, FunctionHost>();
  const byAnyName = new Map<string, FunctionHost>();
  const stoppers: (() => void | Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop();
  };

  try {
    const byFunctionName = new Map<string, FunctionHost>();
    // Variables of the local platform in every instance; filled in before any bundle loads.
    const platformEnv: Record<string, string> = {};
    for (const fn of spec.functions) {
      const host = new FunctionHost(fn, {
        distDir: opts.distDir,
        clock,
        accountId,
        credentials,
        envOverrides,
        platformEnv,
        logDestination,
        logLevel,
        asyncConcurrency,
      });
      byFunctionName.set(fn.functionName, host);
      hosts.set(fn.name, host);
      for (const name of [fn.name, fn.functionName, fn.resourceId]) byAnyName.set(name, host);
      stoppers.push(() => host.stop());
    }
    if (opts.checkEnvironment) {
      const problems = [...hosts.values()].flatMap((host) => {
        try {
          opts.checkEnvironment!(host.spec, host.environment());
          return [];
        } catch (err) {
          return [`  ${host.spec.name}: ${(err as Error).message}`];
        }
      });
      if (problems.length) throw new Error(`invalid function environment (${opts.sYamlPath}):\n${problems.join('\n')}`);
    }
    let fcApiUrl: string | undefined;
    if (opts.fcApi) {
      const fcApi = await serveFcApi({
        port: opts.fcApi.port ?? 0,
        functionNamed: (name) => byFunctionName.get(name),
        resolveSecret: opts.fcApi.resolveSecret,
        log,
      });
      stoppers.push(() => fcApi.close());
      fcApiUrl = fcApi.url;
      // Only for the local runtime: where shared/platform.ts's fc2 invoker finds the FC API (FC sets no such variable).
      platformEnv.LIVECYCLE_FC_ENDPOINT = fcApiUrl;
    }
    const hostFor = (name: string): FunctionHost => {
      const host = byAnyName.get(name);
      if (!host) throw new Error(`no function "${name}" in ${opts.sYamlPath} (known: ${[...hosts.keys()].join(', ')})`);
      return host;
    };

    installInvoker(
      fcApiUrl
        ? undefined
        : {
            async invokeAsync(functionName, payload) {
              hostFor(functionName).invokeAsync(payloadBytes(payload), undefined, { trigger: 'async (in-process)' });
            },
          },
    );
    stoppers.push(() => installInvoker(undefined));
    stoppers.push(restoreLogDestination);

    // Bundles load only after the clock, invoker and log destination are in place: module-level
    // code may read them.
    for (const host of hosts.values()) host.warm();

    const triggers: TriggerInfo[] = [];
    let http: HttpTriggerServer | undefined;
    for (const host of hosts.values()) {
      for (const trigger of host.spec.triggers) {
        triggers.push({ fn: host.spec.name, trigger });
        if (opts.serveTriggers === false) continue;
        if (trigger.type === 'timer') {
          if (!trigger.enable) continue;
          const schedule = parseSchedule(trigger.cronExpression, clock.now());
          stoppers.push(
            runSchedule(clock, schedule, (atMs) =>
              host.invokeAsync(timerEvent(trigger.name, atMs, trigger.payload), undefined, {
                uncapped: true,
                trigger: `timer ${trigger.name}`,
              }),
            ),
          );
        } else if (trigger.type === 'mns_topic') {
          if (!opts.topics)
            throw new Error(
              `function ${host.spec.name}: trigger ${trigger.name} needs the emulator's topics (RuntimeOptions.topics)`,
            );
          if (trigger.filterTag)
            log.warn({ trigger: trigger.name }, 'filterTag is not emulated locally; every message is delivered');
          stoppers.push(
            subscribeTrigger({
              host,
              trigger,
              topics: opts.topics,
              clock,
              accountId,
              random: opts.random ?? Math.random,
              onSettled: opts.onMnsSettled,
            }),
          );
        } else {
          if (http)
            throw new Error(`the local runtime serves one HTTP-triggered function; ${host.spec.name} is a second one`);
          http = await serveHttpTrigger({ host, trigger, clock, accountId, port: opts.port ?? 0, log });
          const server = http;
          stoppers.push(() => server.close());
        }
      }
    }
    log.info({ functions: [...hosts.keys()], httpUrl: http?.url, fcApiUrl }, 'local runtime started');

    return {
      httpUrl: http?.url,
      fcApiUrl,
      functions: spec.functions,
      triggers,
      invoke: async (fn, event) => hostFor(fn).invoke(event),
      invokeAsync: (fn, payload) => hostFor(fn).invokeAsync(payloadBytes(payload)),
      settled: async () => {
        // One function's invocation can start another's (poll-stat → generate-vod): loop until quiet.
        while ([...hosts.values()].some((h) => h.busy)) await Promise.all([...hosts.values()].map((h) => h.settled()));
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function asyncConcurrencyFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_ASYNC_CONCURRENCY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`LIVECYCLE_LOCAL_ASYNC_CONCURRENCY must be an integer >= 1, got "${value}"`);
  return n;
}
