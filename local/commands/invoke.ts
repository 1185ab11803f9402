/**
 * `livecycle invoke <function>`: runs one function once with an event of its trigger type —
 * locally, from its bundle, against the running `livecycle start` stack's emulator (or an
 * embedded, empty one when none runs) — or, with --remote, the deployed function via FC's API.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { ControlledClock } from '../../shared/clock';
import { DEFAULT_BUCKET, startEmulator } from '../emulator';
import { ADMIN_PREFIX, adminHeaders } from '../emulator/admin-client';
import { startRuntime, type StsCredentials } from '../runtime';
import { httpEvent, mnsEvent, timerEvent } from '../runtime/events';
import { loadSYaml, type FunctionSpec } from '../runtime/syaml';
import { invokeFunction } from '../../shared/platform';
import { parseCommandLine, parseOptions, UsageError } from './args';
import { readStackFile } from '../stack';
import type { Command } from './types';

const USAGE = `Usage: livecycle invoke <function> [options]

Invokes one function once. <function> is the short name (poll-stat), the FC function name
(livecycle-poll-stat) or the s.yaml resource id (pollStat).

Without --event, the event is a synthetic one of the function's first trigger: a timer event
at the current time, an MNS message with body "{}", or GET / for the HTTP trigger.

Options:
  --event FILE    raw event bytes from FILE ('-' reads stdin)
  --async         asynchronous invocation (FC's retries apply); waits for the final outcome locally
  --data DIR      data directory of a running \`livecycle start\` (default .data); its emulator is
                  used when the stack is running, otherwise an embedded empty emulator
  --remote        invoke the deployed function through Function Compute's InvokeFunction API
                  (POST /2023-03-30/functions/<name>/invocations, FC signature), with credentials
                  from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
                  (/ ALIBABA_CLOUD_SECURITY_TOKEN) and the account from ALIBABA_CLOUD_ACCOUNT_ID
  --endpoint URL  with --remote: the FC API at URL instead of <account>.<region>.fc.aliyuncs.com,
                  e.g. the one \`livecycle start\` prints ("fc api:"); the account then defaults
                  to s.yaml's vars.accountId
  --help          show this text

The event must be JSON, except for an MNS trigger with notifyContentFormat STREAM (raw body);
malformed JSON exits 2 with the parse error. The function's result is printed on stdout; logs
go to stderr. Exit 1 when it failed.`;

function findFunction(functions: FunctionSpec[], name: string): FunctionSpec | undefined {
  return functions.find((f) => [f.name, f.functionName, f.resourceId].includes(name));
}

/** A synthetic event of the function's first trigger type. */
export function syntheticEvent(fn: FunctionSpec, nowMs: number, accountId: string): Buffer {
  const trigger = fn.triggers[0];
  switch (trigger?.type) {
    case 'timer':
      return timerEvent(trigger.name, nowMs, trigger.payload);
    case 'mns_topic':
      return mnsEvent(
        trigger.notifyContentFormat,
        {
          messageId: randomBytes(16).toString('hex').toUpperCase(),
          topic: trigger.topic,
          body: '{}',
          publishTime: nowMs,
        },
        { accountId, subscriptionName: `${fn.functionName}-${trigger.name}` },
      );
    case 'http':
      return httpEvent(
        {
          method: 'GET',
          url: '/',
          rawHeaders: ['Host', 'localhost', 'User-Agent', 'livecycle-invoke'],
          httpVersion: '1.1',
          sourceIp: '127.0.0.1',
          body: Buffer.alloc(0),
        },
        { requestId: randomUUID(), accountId, triggerName: trigger.name, nowMs },
      );
    default:
      return Buffer.from('{}');
  }
}

async function readEvent(file: string): Promise<Buffer> {
  if (file !== '-') return readFileSync(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The --event bytes, refused (UsageError) when the function's trigger delivers JSON and they are
 * not JSON: a handler would only acknowledge them as unrecognised and exit 0.
 */
async function eventFor(fn: FunctionSpec, file: string | undefined, synthetic: () => Buffer): Promise<Buffer> {
  if (file === undefined) return synthetic();
  const event = await readEvent(file);
  const trigger = fn.triggers[0];
  if (trigger?.type === 'mns_topic' && trigger.notifyContentFormat === 'STREAM') return event;
  try {
    JSON.parse(event.toString('utf8'));
  } catch (err) {
    throw new UsageError(`--event ${file} is not valid JSON (${(err as Error).message})`);
  }
  return event;
}

/** The function named on the command line, from s.yaml; UsageError naming the known ones. */
function functionFromSYaml(fnName: string): { spec: ReturnType<typeof loadSYaml>; fn: FunctionSpec } {
  const spec = loadSYaml(join(process.cwd(), 's.yaml'));
  const fn = findFunction(spec.functions, fnName);
  if (!fn)
    throw new UsageError(`no function "${fnName}" in s.yaml (known: ${spec.functions.map((f) => f.name).join(', ')})`);
  return { spec, fn };
}

async function invokeLocal(
  fnName: string,
  eventFile: string | undefined,
  isAsync: boolean,
  dataDir: string,
): Promise<number> {
  const root = process.cwd();
  // Name and event are checked before anything starts.
  const { spec, fn } = functionFromSYaml(fnName);
  const given = eventFile === undefined ? undefined : await eventFor(fn, eventFile, () => Buffer.alloc(0));
  const running = readStackFile(dataDir);
  const clock = new ControlledClock();
  let mint: () => Promise<StsCredentials>;
  let endpoint: { url: string; region: string; buckets: string[] };
  let stopEmulator = async () => {};
  let topics;
  if (running) {
    // Run on the stack's clock reading and speed, and with STS credentials from its emulator.
    const state = (await (
      await request(`${running.emulatorUrl}${ADMIN_PREFIX}/clock`, { headers: adminHeaders() })
    ).body.json()) as { now: number; rate: number };
    await clock.set(state.now);
    clock.setRate(state.rate);
    mint = async () => {
      const res = await request(`${running.emulatorUrl}${ADMIN_PREFIX}/sts`, {
        method: 'POST',
        headers: adminHeaders(true),
        body: '{"ttlSeconds":3600}',
      });
      if (res.statusCode !== 200)
        throw new Error(`emulator at ${running.emulatorUrl} refused to mint STS credentials (HTTP ${res.statusCode})`);
      return (await res.body.json()) as StsCredentials;
    };
    endpoint = { url: running.emulatorUrl, region: running.region, buckets: running.buckets };
    process.stderr.write(`using the running stack's emulator at ${running.emulatorUrl}\n`);
  } else {
    const emulator = await startEmulator({ port: 0, buckets: [DEFAULT_BUCKET], clock });
    mint = async () => emulator.mintSts({ ttlSeconds: 3600 });
    endpoint = { url: emulator.url, region: emulator.region, buckets: [DEFAULT_BUCKET] };
    topics = emulator.topics;
    stopEmulator = () => emulator.stop();
    process.stderr.write(`no running stack in ${dataDir}; using an embedded empty emulator at ${emulator.url}\n`);
  }
  try {
    const runtime = await startRuntime({
      sYamlPath: join(root, 's.yaml'),
      distDir: join(root, 'dist'),
      clock,
      topics,
      mintCredentials: mint,
      env: {
        OSS_ENDPOINT: endpoint.url,
        OSS_REGION: endpoint.region,
        OSS_PATH_STYLE: 'true',
        BUCKETS: endpoint.buckets.join(','),
      },
      sYamlEnv: { ...process.env, LIVECYCLE_REGION: endpoint.region },
      serveTriggers: false,
      logSink: (line) => void process.stderr.write(`${line}\n`),
    });
    try {
      const event = given ?? syntheticEvent(fn, clock.now(), String(spec.vars.accountId ?? ''));
      if (isAsync) {
        const invocation = runtime.invokeAsync(fn.name, event);
        const outcome = await invocation.completion;
        process.stdout.write(
          `${JSON.stringify({ requestId: outcome.requestId, status: outcome.status, attempts: outcome.attempts, result: outcome.last?.payload.toString() })}\n`,
        );
        return outcome.status === 'succeeded' ? 0 : 1;
      }
      const outcome = await runtime.invoke(fn.name, event);
      process.stdout.write(`${outcome.payload.toString()}\n`);
      process.stderr.write(
        `${outcome.status} in ${outcome.durationMs} ms, requestId ${outcome.requestId}${outcome.error ? ` (${outcome.error.type})` : ''}\n`,
      );
      return outcome.status === 'succeeded' ? 0 : 1;
    } finally {
      await runtime.stop();
    }
  } finally {
    await stopEmulator();
  }
}

/**
 * The deployed function (or the FC API at `endpoint`), through FC's InvokeFunction on the
 * 2023-03-30 path with @alicloud/fc2's signature: shared/platform.ts's invokeFunction, the same
 * call the deployed poll-stat makes. Tested against the local runtime's FC API, which verifies
 * the signature; not yet run against real FC (docs/deploy.md).
 */
async function invokeRemote(
  fnName: string,
  eventFile: string | undefined,
  isAsync: boolean,
  endpoint: string | undefined,
): Promise<number> {
  const { spec, fn } = functionFromSYaml(fnName);
  const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const accountId = process.env.ALIBABA_CLOUD_ACCOUNT_ID || (endpoint ? String(spec.vars.accountId ?? '') : undefined);
  const missing = [
    ['ALIBABA_CLOUD_ACCESS_KEY_ID', accessKeyId],
    ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', accessKeySecret],
    ['ALIBABA_CLOUD_ACCOUNT_ID', accountId],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) {
    process.stderr.write(`livecycle invoke --remote: set ${missing.join(', ')}\n`);
    return 2;
  }
  const event = await eventFor(fn, eventFile, () => syntheticEvent(fn, Date.now(), accountId!));
  const target = {
    accountId: accountId!,
    region: fn.region,
    endpoint,
    credentials: {
      accessKeyId: accessKeyId!,
      accessKeySecret: accessKeySecret!,
      securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
    },
  };
  try {
    const res = await invokeFunction(target, fn.functionName, event, isAsync ? 'Async' : 'Sync');
    const errorType = res.headers['x-fc-error-type'];
    if (!isAsync) process.stdout.write(`${typeof res.data === 'string' ? res.data : JSON.stringify(res.data)}\n`);
    process.stderr.write(
      `${isAsync ? 'queued' : errorType ? `failed (${errorType})` : 'succeeded'}, requestId ${res.headers['x-fc-request-id'] ?? '?'}\n`,
    );
    return errorType ? 1 : 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`livecycle invoke --remote: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

export const invokeCommand: Command = {
  name: 'invoke',
  summary: 'invoke one function locally (or --remote) with a synthetic or given event',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandLine(invokeCommand, () => {
      const { values, positionals } = parseOptions(argv, {
        allowPositionals: true,
        options: {
          event: { type: 'string' },
          async: { type: 'boolean' },
          remote: { type: 'boolean' },
          data: { type: 'string' },
          endpoint: { type: 'string' },
        },
      });
      const [fnName, ...extra] = positionals;
      if (!fnName || extra.length) throw new UsageError('expected exactly one function name');
      if (values.endpoint !== undefined && !values.remote) throw new UsageError('--endpoint goes with --remote');
      return { fnName, ...values };
    });
    if (parsed === undefined) return 2;
    const { fnName, event, remote, data, endpoint } = parsed;
    const isAsync = parsed.async ?? false;
    try {
      if (remote) return await invokeRemote(fnName, event, isAsync, endpoint);
      return await invokeLocal(fnName, event, isAsync, data ?? join(process.cwd(), '.data'));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`livecycle invoke: ${err.message}\n`);
      return 2;
    }
  },
};
