import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { signApiRequest } from '../../shared/api/auth';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { bootStack, type LocalStack } from '../../local/stack';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET } from '../../local/emulator';
import { ensureBuilt } from '../helpers/build';

export const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/cli.js) in `cwd` (the project root by default); never rejects. */
export async function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  ensureBuilt();
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '', NODE_NO_WARNINGS: '1', ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * A local stack in a fresh data directory (`livecycle-<name>-…` under the system's temp dir), on a
 * frozen clock at 2024-05-01T12:00:30Z, and a client of its bucket; the built CLI attaches to it.
 */
export async function bootTestStack(name: string): Promise<{ stack: LocalStack; dataDir: string; bucket: OssBucket }> {
  ensureBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), `livecycle-${name}-`));
  const stack = await bootStack({
    root: ROOT,
    dataDir,
    apiPort: 0,
    emulatorPort: 0,
    rate: 0,
    startMs: Date.UTC(2024, 4, 1, 12, 0, 30),
    logSink: () => {},
  });
  const bucket = new OssClient({
    endpoint: stack.emulator.url,
    region: stack.emulator.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret }),
  }).bucket(DEFAULT_BUCKET);
  return { stack, dataDir, bucket };
}

/** The words of a curl line as a shell would split them (single quotes only, as sign-request writes). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const m of line.matchAll(pattern)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

/** Creates `channel` through the stack's api (signed POST /channels) and starts a push into it with its publish URL. */
export async function createAndPush(stack: LocalStack, channel: string): Promise<void> {
  const body = JSON.stringify({ name: channel });
  const res = await request(`${stack.runtime.httpUrl}/channels`, {
    method: 'POST',
    headers: {
      ...signApiRequest({ method: 'POST', path: '/channels', body, secret: stack.apiSecret, now: stack.clock.now() }),
      'content-type': 'application/json',
    },
    body,
  });
  const created = (await res.body.json()) as { publishUrl: string };
  if (res.statusCode !== 201) throw new Error(`POST /channels: ${res.statusCode} ${JSON.stringify(created)}`);
  await stack.emulator.ingest.start({ bucket: DEFAULT_BUCKET, channel, signedUrl: created.publishUrl });
}

/** Emulator time passes on `stack`, a second at a time; every timer due fires and what it started finishes. */
export async function passStackTime(stack: LocalStack, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    await stack.clock.advance(1000);
    await stack.emulator.topics.idle();
    await stack.runtime.settled();
  }
}
