/**
 * The local stack: the emulator plus the local runtime serving every function in s.yaml, on one
 * clock, with the emulator's data under .data/. `bootStack` is what `livecycle start`, the
 * `--demo` story, tests and the bench build on; other commands attach to a running one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { signApiRequest } from '../shared/api/auth';
import { ControlledClock } from '../shared/clock';
import { ConsoleKeys } from '../shared/console/session';
import { startEmulator, DEFAULT_BUCKET, type Emulator } from './emulator';
import { ADMIN_PREFIX, adminHeaders } from './emulator/admin-client';
import { DataDirLock, LOCK_FILE } from './emulator/storage/lock';
import { startRuntime, type Runtime, type StsCredentials } from './runtime';
import { loadSYaml } from './runtime/syaml';
import { checkFunctionEnvironment, shellOverrides, type ShellOverrides } from './commands/stack-env';

export interface StackOptions {
  /** Project root holding s.yaml and dist/. */
  root: string;
  dataDir: string;
  fresh?: boolean;
  apiPort?: number;
  emulatorPort?: number;
  /** The emulator's RTMP ingest port (0 picks a free one); no RTMP ingest when absent. */
  rtmpPort?: number;
  /** Clock speed: clock ms per real ms (1 = real time; 0 = frozen, driven by advance()). */
  rate?: number;
  /** Clock reading at boot (default: the real time). */
  startMs?: number;
  /** Anonymous reads of the bucket (players fetch playlists and segments unsigned; see `livecycle play`). */
  publicRead?: boolean;
  /** More local values for s.yaml-declared variables, over the stack's own (the demo's settings). */
  env?: Record<string, string>;
  logSink?: (line: string) => void;
  /**
   * Serve FC's InvokeFunction API on this port (0: a free one) and route the functions' async
   * invocations through it with the production invoker (@alicloud/fc2 over HTTP). Undefined:
   * in-process async invocation, no FC API.
   */
  fcApiPort?: number;
  /** The shell's environment: its values for s.yaml-declared variables override s.yaml (stack-env.ts). */
  shellEnv?: Record<string, string | undefined>;
}

export interface LocalStack {
  emulator: Emulator;
  runtime: Runtime;
  clock: ControlledClock;
  dataDir: string;
  /** HMAC secret the local api accepts (persisted per data dir; local only). */
  apiSecret: string;
  /** Bearer token the local api (and the console's sign-in) accepts (persisted per data dir; local only). */
  apiToken: string;
  /** Which shell variables replaced s.yaml values (and which were ignored). */
  shellOverrides: ShellOverrides;
  stop(): Promise<void>;
}

/** Where a running stack announces itself, so `livecycle invoke`/`push` can attach to it. */
export interface StackFile {
  pid: number;
  emulatorUrl: string;
  apiUrl?: string;
  /** The local FC InvokeFunction API (`livecycle invoke --remote --endpoint`). */
  fcApiUrl?: string;
  region: string;
  buckets: string[];
}

export const STACK_FILE = 'stack.json';
/** Where `livecycle push` looks for the emulator unless told otherwise. */
export const DEFAULT_EMULATOR_URL = 'http://127.0.0.1:9000';

/** The stack announced in `dataDir`, if its process is still alive. */
export function readStackFile(dataDir: string): StackFile | undefined {
  const file = join(dataDir, STACK_FILE);
  if (!existsSync(file)) return undefined;
  const stack = JSON.parse(readFileSync(file, 'utf8')) as StackFile;
  try {
    process.kill(stack.pid, 0);
    return stack;
  } catch {
    return undefined;
  }
}

/** A running stack as another command sees it: where it is, STS keys from its emulator, its clock. */
export interface AttachedStack {
  stack: StackFile;
  credentials: StsCredentials;
  /** A clock reading and running like the stack's (its emulator's `/_emulator/clock`). */
  clock: ControlledClock;
}

/**
 * Attaches to the stack announced in `dataDir`; undefined when none is running there. Errors
 * name the emulator that failed to answer.
 */
export async function attachToStack(dataDir: string): Promise<AttachedStack | undefined> {
  const stack = readStackFile(dataDir);
  if (!stack) return undefined;
  const admin = async <T>(path: string, init?: { method: 'POST'; body: string }): Promise<T> => {
    const res = await request(`${stack.emulatorUrl}${ADMIN_PREFIX}${path}`, {
      ...init,
      headers: adminHeaders(init !== undefined),
    });
    if (res.statusCode !== 200)
      throw new Error(`the emulator at ${stack.emulatorUrl} answered ${res.statusCode} to ${path}`);
    return (await res.body.json()) as T;
  };
  const state = await admin<{ now: number; rate: number }>('/clock');
  const credentials = await admin<StsCredentials>('/sts', { method: 'POST', body: '{"ttlSeconds":3600}' });
  return { stack, credentials, clock: new ControlledClock({ startMs: state.now, rate: state.rate }) };
}

/** A stable local secret per data directory, so a pasted curl keeps working across restarts. */
export const API_SECRET_FILE = 'api-secret';
export const API_TOKEN_FILE = 'api-token';

function localSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(24).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Boots the stack holding the lock of its data directory (a second stack on it refuses: storage/lock.ts). */
export async function bootStack(opts: StackOptions): Promise<LocalStack> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = await DataDirLock.acquire(
    dataDir,
    'livecycle start',
    (message) => void process.stderr.write(`${message}\n`),
  );
  try {
    return await bootLocked(opts, dataDir, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function bootLocked(opts: StackOptions, dataDir: string, lock: DataDirLock): Promise<LocalStack> {
  // Wiped only once locked, so --fresh never wipes a running stack's data.
  if (opts.fresh)
    for (const name of readdirSync(dataDir))
      if (name !== LOCK_FILE) rmSync(join(dataDir, name), { recursive: true, force: true });
  const apiSecret = localSecret(dataDir, API_SECRET_FILE);
  const apiToken = localSecret(dataDir, API_TOKEN_FILE);
  const clock = new ControlledClock({ rate: opts.rate ?? 1, startMs: opts.startMs });
  const emulator = await startEmulator({
    port: opts.emulatorPort ?? 9000,
    dataDir: join(dataDir, 'emulator'),
    buckets: [DEFAULT_BUCKET],
    clock,
    rtmpPort: opts.rtmpPort,
    publicReadBuckets: opts.publicRead ? [DEFAULT_BUCKET] : [],
    program: 'livecycle start',
  });
  const sYamlPath = join(opts.root, 's.yaml');
  const sYamlEnv = { ...process.env, LIVECYCLE_REGION: emulator.region };
  let runtime: Runtime;
  let overrides: ShellOverrides = { applied: {}, ignored: [] };
  try {
    if (opts.shellEnv)
      overrides = shellOverrides(
        loadSYaml(sYamlPath, sYamlEnv).functions.flatMap((f) => Object.keys(f.environmentVariables)),
        opts.shellEnv,
      );
    runtime = await startRuntime({
      sYamlPath,
      distDir: join(opts.root, 'dist'),
      clock,
      topics: emulator.topics,
      mintCredentials: async () => emulator.mintSts({ ttlSeconds: 3600 }),
      env: {
        // The console's sign-in takes the api token: a local one unless the shell sets API_TOKEN.
        API_TOKEN: apiToken,
        ...overrides.applied,
        OSS_ENDPOINT: emulator.url,
        OSS_REGION: emulator.region,
        OSS_PATH_STYLE: 'true',
        // Publish URLs the api signs point at the RTMP port (its IP host names the first bucket).
        ...(emulator.rtmpOrigin && { OSS_RTMP_ENDPOINT: emulator.rtmpOrigin }),
        BUCKETS: DEFAULT_BUCKET,
        API_SECRETS: apiSecret,
        ...opts.env,
      },
      sYamlEnv,
      checkEnvironment: checkFunctionEnvironment(opts.root, overrides),
      port: opts.apiPort ?? 8080,
      logSink: opts.logSink,
      fcApi:
        opts.fcApiPort === undefined
          ? undefined
          : { port: opts.fcApiPort, resolveSecret: (id, token) => emulator.secretFor(id, token) },
    });
  } catch (err) {
    await emulator.stop();
    throw err;
  }
  await lock.announce(runtime.httpUrl ? { emulator: emulator.url, api: runtime.httpUrl } : { emulator: emulator.url });
  const stackFile: StackFile = {
    pid: process.pid,
    emulatorUrl: emulator.url,
    apiUrl: runtime.httpUrl,
    fcApiUrl: runtime.fcApiUrl,
    region: emulator.region,
    buckets: [DEFAULT_BUCKET],
  };
  writeFileSync(join(dataDir, STACK_FILE), `${JSON.stringify(stackFile, null, 2)}\n`);
  return {
    emulator,
    runtime,
    clock,
    dataDir,
    apiSecret,
    apiToken: overrides.applied.API_TOKEN ?? apiToken,
    shellOverrides: overrides,
    async stop() {
      rmSync(join(dataDir, STACK_FILE), { force: true });
      await runtime.stop();
      await emulator.stop();
      await lock.release();
    },
  };
}

/**
 * The console's address with a one-time login token in its fragment (never sent to a server or
 * logged; the page exchanges it for a session cookie and drops it from the address bar).
 */
export function consoleLoginUrl(stack: LocalStack): string | undefined {
  if (!stack.runtime.httpUrl) return undefined;
  return `${stack.runtime.httpUrl}/console/#login=${new ConsoleKeys([stack.apiSecret]).mintLogin(stack.clock.now())}`;
}

/** A curl that creates a channel through the local api, signed as shared/api/auth.ts expects. */
export function signedCreateChannelCurl(apiUrl: string, secret: string, nowMs: number, channel = 'cam-1'): string {
  const body = JSON.stringify({ name: channel });
  const headers = signApiRequest({ method: 'POST', path: '/channels', body, secret, now: nowMs });
  const h = Object.entries(headers)
    .map(([k, v]) => `-H '${k}: ${v}'`)
    .join(' ');
  return `curl -sS -X POST '${apiUrl}/channels' -H 'content-type: application/json' ${h} -d '${body}'`;
}
