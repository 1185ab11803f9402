/**
 * The local Function Compute InvokeFunction API and the production async invoker: a stack booted
 * with `fcApiPort` serves POST /2023-03-30/functions/<name>/invocations with FC's signature
 * verified, and poll-stat reaches generate-vod through @alicloud/fc2 over HTTP (no in-process
 * invoker installed). `livecycle invoke --remote --endpoint` speaks to the same API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../shared/ledger';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { invokeFunction } from '../../shared/platform';
import { bootStack, type LocalStack } from '../../local/stack';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET } from '../../local/emulator';
import { fcSignature, fcStringToSign } from '../../local/runtime/fc-api';
import { ensureBuilt } from '../helpers/build';
import { cli, createAndPush, passStackTime, ROOT } from '../cli/helpers';

const SPAWNS_TIMEOUT = 90_000;
const START = Date.UTC(2024, 4, 1, 12, 0, 1);

let stack: LocalStack;
let dataDir: string;
let bucket: OssBucket;
const lines: Record<string, unknown>[] = [];

const staticKey = { accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret };
const target = () => ({
  accountId: '1234567890123456',
  region: stack.emulator.region,
  endpoint: stack.runtime.fcApiUrl!,
  credentials: staticKey,
});

/** A request to the FC API signed by the verifier's own algorithm, then altered by `tamper`. */
async function rawInvoke(opts: {
  headers?: Record<string, string>;
  tamper?: (h: Record<string, string>) => void;
  path?: string;
  sign?: boolean;
}) {
  const path = opts.path ?? '/2023-03-30/functions/livecycle-poll-stat/invocations';
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    'content-type': 'application/octet-stream',
    'x-fc-invocation-type': 'Sync',
    ...opts.headers,
  };
  if (opts.sign !== false)
    headers.authorization = `FC ${staticKey.accessKeyId}:${fcSignature(staticKey.accessKeySecret, fcStringToSign('POST', path, headers))}`;
  opts.tamper?.(headers);
  const res = await request(`${stack.runtime.fcApiUrl}${path}`, { method: 'POST', headers, body: '{}' });
  return { status: res.statusCode, body: (await res.body.json()) as { ErrorCode: string; ErrorMessage: string } };
}

beforeAll(async () => {
  ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'livecycle-fcapi-'));
  stack = await bootStack({
    root: ROOT,
    dataDir,
    apiPort: 0,
    emulatorPort: 0,
    fcApiPort: 0,
    rate: 0,
    startMs: START,
    logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  bucket = new OssClient({
    endpoint: stack.emulator.url,
    region: stack.emulator.region,
    pathStyle: true,
    credentials: staticCredentials(staticKey),
  }).bucket(DEFAULT_BUCKET);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the local FC InvokeFunction API', () => {
  it(
    "carries poll-stat's async invocation of generate-vod through fc2: the VOD exists before any generate-vod timer could have made it",
    async () => {
      await createAndPush(stack, 'cam-fc');
      await passStackTime(stack, 10_000);
      await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: 'cam-fc' });
      // 12:00:11 ended; reconnect window (60 s) over by 12:01:11; the 12:02:00 poll concludes the
      // broadcast and invokes generate-vod. generate-vod's own timer next fires at 12:02:30.
      await passStackTime(stack, Date.UTC(2024, 4, 1, 12, 2, 5) - stack.clock.now());

      const vods = await new Ledger(bucket).listVods('cam-fc');
      expect(vods).toHaveLength(1);
      const viaApi = lines.filter((l) => l.msg === 'InvokeFunction livecycle-generate-vod (Async)');
      expect(viaApi).toHaveLength(1);
      // The invocation the FC API queued is the one that ran generate-vod, and it succeeded.
      const ran = lines.find(
        (l) => l.fn === 'generate-vod' && l.msg === `FC Invoke End RequestId: ${String(viaApi[0]!.requestId)}`,
      );
      expect(ran).toMatchObject({ status: 'succeeded' });
    },
    SPAWNS_TIMEOUT,
  );

  it('answers a sync invocation with the result and an async one with 202', async () => {
    const sync = await invokeFunction(target(), 'livecycle-poll-stat', { job: 'nothing-to-see' }, 'Sync');
    expect(sync.headers['x-fc-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(String(sync.data))).toEqual({ ignored: true });
    const queued = await invokeFunction(target(), 'livecycle-poll-stat', { job: 'nothing-to-see' }, 'Async');
    expect(queued.data).toBe('');
    await stack.runtime.settled();
  });

  it("refuses what FC refuses, with FC's error shape", async () => {
    // A wrong secret, through the SDK: fc2 surfaces FC's ErrorCode.
    await expect(
      invokeFunction(
        { ...target(), credentials: { ...staticKey, accessKeySecret: 'not-the-secret' } },
        'livecycle-poll-stat',
        {},
        'Sync',
      ),
    ).rejects.toMatchObject({ code: 'SignatureNotMatch' });
    await expect(
      invokeFunction(
        { ...target(), credentials: { accessKeyId: 'nobody', accessKeySecret: 'x' } },
        'livecycle-poll-stat',
        {},
        'Sync',
      ),
    ).rejects.toMatchObject({ code: 'InvalidAccessKeyID' });

    expect(await rawInvoke({})).toMatchObject({ status: 200 });
    // x-fc-* headers are signed: switching Sync to Async after signing breaks the signature.
    expect(await rawInvoke({ tamper: (h) => void (h['x-fc-invocation-type'] = 'Async') })).toEqual({
      status: 403,
      body: { ErrorCode: 'SignatureNotMatch', ErrorMessage: expect.stringContaining('does not match') },
    });
    expect(await rawInvoke({ tamper: (h) => void (h['content-type'] = 'application/json') })).toMatchObject({
      status: 403,
      body: { ErrorCode: 'SignatureNotMatch' },
    });
    expect(await rawInvoke({ sign: false })).toMatchObject({ status: 403, body: { ErrorCode: 'AccessDenied' } });
    expect(await rawInvoke({ headers: { date: new Date(Date.now() - 20 * 60_000).toUTCString() } })).toMatchObject({
      status: 403,
      body: { ErrorMessage: expect.stringContaining('15 minutes') },
    });
    expect(await rawInvoke({ headers: { 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' } })).toMatchObject({
      status: 400,
      body: { ErrorCode: 'InvalidArgument' },
    });
    expect(await rawInvoke({ path: '/2023-03-30/functions/livecycle-nosuch/invocations' })).toMatchObject({
      status: 404,
      body: { ErrorCode: 'FunctionNotFound' },
    });
    expect(await rawInvoke({ path: '/2016-08-15/services/s/functions/f/invocations' })).toMatchObject({
      status: 400,
      body: { ErrorCode: 'PathNotSupported' },
    });
  });

  it(
    'livecycle invoke --remote --endpoint invokes through it; a bad key fails with the FC error',
    async () => {
      const env = {
        ALIBABA_CLOUD_ACCESS_KEY_ID: staticKey.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: staticKey.accessKeySecret,
        ALIBABA_CLOUD_ACCOUNT_ID: '1234567890123456',
      };
      const ok = await cli(['invoke', 'poll-stat', '--remote', '--endpoint', stack.runtime.fcApiUrl!], env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/^succeeded, requestId [0-9a-f-]{36}$/m);
      const bad = await cli(['invoke', 'poll-stat', '--remote', '--endpoint', stack.runtime.fcApiUrl!], {
        ...env,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong',
      });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('SignatureNotMatch');
      await stack.runtime.settled();
    },
    SPAWNS_TIMEOUT,
  );
});
