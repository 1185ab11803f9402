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
import { parseCommandLine, parseOptions, UsageError } from './args';
import { readStackFile } from './start';
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
  --remote        invoke the deployed function through Function Compute's API, with credentials
                  from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
                  (/ ALIBABA_CLOUD_SECURITY_TOKEN) and the account from ALIBABA_CLOUD_ACCOUNT_ID
  --help          show this text

The function's result is printed on stdout; logs go to stderr. Exit 1 when it failed.`;

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
        { messageId: randomBytes(16).toString('hex').toUpperCase(), topic: trigger.topic, body: '{}', publishTime: nowMs },
        { accountId, subscriptionName: `${fn.functionName}-${trigger.name}` },
      );
    case 'http':
      return httpEvent(
        { method: 'GET', url: '/', rawHeaders: ['Host', 'localhost', 'User-Agent', 'livecycle-invoke'], httpVersion: '1.1', sourceIp: '127.0.0.1', body: Buffer.alloc(0) },
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

async function invokeLocal(fnName: string, eventFile: string | undefined, isAsync: boolean, dataDir: string): Promise<number> {
  const root = process.cwd();
  const running = readStackFile(dataDir);
  const clock = new ControlledClock();
  let mint: () => Promise<StsCredentials>;
  let endpoint: { url: string; region: string; buckets: string[] };
  let stopEmulator = async () => {};
  let topics;
  if (running) {
    // Run on the stack's clock reading and speed, and with STS credentials from its emulator.
    const state = (await (await request(`${running.emulatorUrl}${ADMIN_PREFIX}/clock`, { headers: adminHeaders() })).body.json()) as { now: number; rate: number };
    await clock.set(state.now);
    clock.setRate(state.rate);
    mint = async () => {
      const res = await request(`${running.emulatorUrl}${ADMIN_PREFIX}/sts`, { method: 'POST', headers: adminHeaders(true), body: '{"ttlSeconds":3600}' });
      if (res.statusCode !== 200) throw new Error(`emulator at ${running.emulatorUrl} refused to mint STS credentials (HTTP ${res.statusCode})`);
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
      env: { OSS_ENDPOINT: endpoint.url, OSS_REGION: endpoint.region, OSS_PATH_STYLE: 'true', BUCKETS: endpoint.buckets.join(',') },
      sYamlEnv: { ...process.env, LIVECYCLE_REGION: endpoint.region },
      serveTriggers: false,
      logSink: (line) => void process.stderr.write(`${line}\n`),
    });
    try {
      const fn = findFunction(runtime.functions, fnName);
      if (!fn) {
        process.stderr.write(`livecycle invoke: no function "${fnName}" in s.yaml (known: ${runtime.functions.map((f) => f.name).join(', ')})\n`);
        return 2;
      }
      const event = eventFile ? await readEvent(eventFile) : syntheticEvent(fn, clock.now(), String(loadSYaml(join(root, 's.yaml')).vars.accountId ?? ''));
      if (isAsync) {
        const invocation = runtime.invokeAsync(fn.name, event);
        const outcome = await invocation.completion;
        process.stdout.write(`${JSON.stringify({ requestId: outcome.requestId, status: outcome.status, attempts: outcome.attempts, result: outcome.last?.payload.toString() })}\n`);
        return outcome.status === 'succeeded' ? 0 : 1;
      }
      const outcome = await runtime.invoke(fn.name, event);
      process.stdout.write(`${outcome.payload.toString()}\n`);
      process.stderr.write(`${outcome.status} in ${outcome.durationMs} ms, requestId ${outcome.requestId}${outcome.error ? ` (${outcome.error.type})` : ''}\n`);
      return outcome.status === 'succeeded' ? 0 : 1;
    } finally {
      await runtime.stop();
    }
  } finally {
    await stopEmulator();
  }
}

interface Fc2Client {
  version: string;
  post(path: string, body: Buffer, headers: Record<string, string>): Promise<{ headers: Record<string, string>; data: unknown }>;
}

/**
 * The deployed function, through FC's InvokeFunction on the 2023-03-30 path with @alicloud/fc2's
 * signature (the same choice as shared/platform.ts; see docs/deploy.md). Not exercisable without
 * an account: nothing here has run against real FC.
 */
async function invokeRemote(fnName: string, eventFile: string | undefined, isAsync: boolean): Promise<number> {
  const spec = loadSYaml(join(process.cwd(), 's.yaml'));
  const fn = findFunction(spec.functions, fnName);
  if (!fn) {
    process.stderr.write(`livecycle invoke: no function "${fnName}" in s.yaml\n`);
    return 2;
  }
  const accessKeyID = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const accountId = process.env.ALIBABA_CLOUD_ACCOUNT_ID;
  const missing = [
    ['ALIBABA_CLOUD_ACCESS_KEY_ID', accessKeyID],
    ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', accessKeySecret],
    ['ALIBABA_CLOUD_ACCOUNT_ID', accountId],
  ].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) {
    process.stderr.write(`livecycle invoke --remote: set ${missing.join(', ')}\n`);
    return 2;
  }
  const event = eventFile ? await readEvent(eventFile) : syntheticEvent(fn, Date.now(), accountId!);
  // @ts-expect-error -- @alicloud/fc2 ships no type declarations; Fc2Client names what is used.
  const { default: FC } = (await import('@alicloud/fc2')) as { default: new (accountId: string, cfg: object) => Fc2Client };
  const client = new FC(accountId!, { accessKeyID, accessKeySecret, securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN, region: fn.region, secure: true });
  client.version = '2023-03-30';
  try {
    const res = await client.post(`/functions/${encodeURIComponent(fn.functionName)}/invocations`, event, { 'x-fc-invocation-type': isAsync ? 'Async' : 'Sync', 'x-fc-log-type': 'None' });
    const errorType = res.headers['x-fc-error-type'];
    process.stdout.write(`${typeof res.data === 'string' ? res.data : JSON.stringify(res.data)}\n`);
    process.stderr.write(`${isAsync ? 'queued' : errorType ? `failed (${errorType})` : 'succeeded'}, requestId ${res.headers['x-fc-request-id'] ?? '?'}\n`);
    return errorType ? 1 : 0;
  } catch (err) {
    process.stderr.write(`livecycle invoke --remote: ${(err as Error).message}\n`);
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
        options: { event: { type: 'string' }, async: { type: 'boolean' }, remote: { type: 'boolean' }, data: { type: 'string' } },
      });
      const [fnName, ...extra] = positionals;
      if (!fnName || extra.length) throw new UsageError('expected exactly one function name');
      return { fnName, ...values };
    });
    if (parsed === undefined) return 2;
    const { fnName, event, remote, data } = parsed;
    const isAsync = parsed.async ?? false;
    if (remote) return invokeRemote(fnName, event, isAsync);
    return invokeLocal(fnName, event, isAsync, data ?? join(process.cwd(), '.data'));
  },
};
