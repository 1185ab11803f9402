/**
 * The client against the local emulator over real HTTP with real signatures: every operation,
 * with V4 and V1, static and STS credentials, and the emulator's fault injection for retries,
 * network errors and deadlines.
 */
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlledClock, installClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { OssClient, type OssClientOptions } from '../../shared/oss/client';
import { staticCredentials } from '../../shared/oss/credentials';
import { OssError, OssNetworkError, OssTimeoutError, OssValidationError } from '../../shared/oss/errors';
import { startEmulator, type Emulator } from '../../local/emulator';

const BUCKET = 'livecycle-demo';
const KEY = { accessKeyId: 'livecycle-local-id', accessKeySecret: 'livecycle-local-secret' };
const START_MS = Date.UTC(2024, 0, 15, 8, 0, 0);

let emu: Emulator;
let clock: ControlledClock;
const clients: OssClient[] = [];

function makeClient(opts: Partial<OssClientOptions> = {}): OssClient {
  const client = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: staticCredentials(KEY),
    retry: { baseMs: 1, capMs: 5 },
    ...opts,
  });
  clients.push(client);
  return client;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function ossError(promise: Promise<unknown>): Promise<OssError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OssError);
  return err as OssError;
}

beforeAll(async () => {
  clock = new ControlledClock({ startMs: START_MS, rate: 0 });
  installClock(clock);
  emu = await startEmulator({
    port: 0,
    buckets: [BUCKET],
    accessKeys: [{ id: KEY.accessKeyId, secret: KEY.accessKeySecret }],
    region: 'cn-hangzhou',
    clock,
    logger: createLogger({ name: 'emulator', level: 'silent' }),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await emu?.stop();
  installClock(undefined);
});

describe.each(['v4', 'v1'] as const)('LiveChannel operations (%s)', (signatureVersion) => {
  const ch = (name: string) => `${signatureVersion}-${name}`;

  it('creates, reads, reconfigures, disables and deletes a channel', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const created = await b.putLiveChannel(ch('cam'), { description: 'front & back' });
    expect(created.publishUrls).toEqual([`rtmp://${BUCKET}.${emu.endpoint}/live/${ch('cam')}`]);
    expect(created.playUrls[0]).toMatch(new RegExp(`/${ch('cam')}/playlist\\.m3u8$`));

    expect(await b.getLiveChannelInfo(ch('cam'))).toEqual({
      description: 'front & back',
      status: 'enabled',
      target: { type: 'HLS', fragDuration: 5, fragCount: 3, playlistName: 'playlist.m3u8' },
    });

    await b.putLiveChannel(ch('cam'), { target: { fragDuration: 2, fragCount: 4, playlistName: 'live.m3u8' } });
    expect((await b.getLiveChannelInfo(ch('cam'))).target).toEqual({
      type: 'HLS',
      fragDuration: 2,
      fragCount: 4,
      playlistName: 'live.m3u8',
    });

    expect(await b.getLiveChannelStat(ch('cam'))).toEqual({ status: 'Idle' });
    expect(await b.getLiveChannelHistory(ch('cam'))).toEqual([]);

    await b.putLiveChannelStatus(ch('cam'), 'disabled');
    expect((await b.getLiveChannelInfo(ch('cam'))).status).toBe('disabled');
    expect(await b.getLiveChannelStat(ch('cam'))).toEqual({ status: 'Disabled' });
    await b.putLiveChannelStatus(ch('cam'), 'enabled');

    await b.deleteLiveChannel(ch('cam'));
    const gone = await ossError(b.getLiveChannelInfo(ch('cam')));
    expect([gone.status, gone.code]).toEqual([404, 'NoSuchLiveChannel']);
    expect(gone.requestId).toBeTruthy();
    expect(gone.operation).toBe('GetLiveChannelInfo');
  });

  it('lists channels page by page (exclusive marker, byte order)', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const names = ['list-c', 'list-a', 'list-e', 'list-b', 'list-d'].map(ch);
    const createdAt = clock.now();
    for (const name of names) await b.putLiveChannel(name);
    const first = await b.listLiveChannels({ prefix: ch('list-'), maxKeys: 2 });
    expect(first.channels.map((c) => c.name)).toEqual([ch('list-a'), ch('list-b')]);
    expect(first).toMatchObject({ isTruncated: true, nextMarker: ch('list-b') });
    expect(first.channels[0]!.lastModified).toBe(createdAt);
    const all = await collect(b.iterateLiveChannels({ prefix: ch('list-'), pageSize: 2 }));
    expect(all.map((c) => c.name)).toEqual([...names].sort());
    const last = await b.listLiveChannels({ prefix: ch('list-'), marker: ch('list-d') });
    expect(last).toEqual({
      channels: [expect.objectContaining({ name: ch('list-e'), status: 'enabled' })],
      isTruncated: false,
    });
  });

  it('pushes with a signed RTMP URL, records history and builds VOD playlists', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const name = ch('push');
    await b.putLiveChannel(name, { target: { fragDuration: 2, fragCount: 3 } });
    const url = await b.signRtmpUrl(name, { expiresInSeconds: 3600, params: { playlistName: 'session.m3u8' } });
    expect(url).toMatch(new RegExp(`^rtmp://${BUCKET}\\.${emu.endpoint.replace(/\./g, '\\.')}/live/${name}\\?`));
    const startedAt = clock.now();
    await emu.ingest.start({ bucket: BUCKET, channel: name, signedUrl: url, remoteAddr: '10.0.0.7:50123' });

    const live = await b.getLiveChannelStat(name);
    expect(live).toMatchObject({ status: 'Live', connectedTime: startedAt, remoteAddr: '10.0.0.7:50123' });

    await clock.advance(10_000);
    await emu.ingest.stop({ bucket: BUCKET, channel: name });
    const history = await b.getLiveChannelHistory(name);
    expect(history).toEqual([{ startTime: startedAt, endTime: startedAt + 10_000, remoteAddr: '10.0.0.7:50123' }]);

    const fragments = (await collect(b.iterateObjects({ prefix: `${name}/` }))).filter((o) => o.key.endsWith('.ts'));
    expect(fragments.length).toBeGreaterThanOrEqual(4);
    expect(await b.headObject(`${name}/session.m3u8`)).toMatchObject({ contentLength: expect.any(Number) });

    const window = { startTime: Math.floor(startedAt / 1000), endTime: Math.floor(startedAt / 1000) + 60 };
    const text = await b.getVodPlaylist(name, window);
    expect(text.startsWith('#EXTM3U')).toBe(true);
    expect(text).toContain('#EXT-X-ENDLIST');
    const { etag } = await b.postVodPlaylist(name, 'vod.m3u8', window);
    expect(etag).toMatch(/^[0-9A-F]{32}$/);
    const stored = await b.getObject(`${name}/vod.m3u8`);
    expect(stored.body.toString('utf8')).toBe(text);
    expect(stored.etag).toBe(etag);

    const empty = await ossError(
      b.postVodPlaylist(name, 'none.m3u8', { startTime: window.startTime - 7200, endTime: window.startTime - 3600 }),
    );
    expect([empty.status, empty.code]).toEqual([400, 'InvalidArgument']);
  });
});

describe.each(['v4', 'v1'] as const)('object operations (%s)', (signatureVersion) => {
  const prefix = `objects-${signatureVersion}/`;

  it('puts, heads, gets (whole and ranged) and deletes odd keys', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const key = `${prefix}dir/odd key+(1)!*'~ä.ts`;
    const body = Buffer.from('0123456789abcdef');
    const writtenAt = clock.now();
    const { etag } = await b.putObject(key, body, { contentType: 'video/MP2T', meta: { Origin: 'test' } });
    expect(etag).toMatch(/^[0-9A-F]{32}$/);
    expect(await b.headObject(key)).toMatchObject({
      contentLength: 16,
      etag,
      contentType: 'video/MP2T',
      meta: { origin: 'test' },
      lastModified: writtenAt,
    });
    const whole = await b.getObject(key);
    expect([whole.status, whole.body.equals(body)]).toEqual([200, true]);
    const part = await b.getObject(key, { range: { start: 2, end: 5 } });
    expect([part.status, part.body.toString(), part.contentRange]).toEqual([206, '2345', 'bytes 2-5/16']);
    const tail = await b.getObject(key, { range: { start: 10 } });
    expect(tail.body.toString()).toBe('abcdef');

    await b.deleteObject(key);
    const missing = await ossError(b.headObject(key));
    // HEAD has no body: the code comes from the base64 x-oss-err header.
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchKey']);
    await b.deleteObject(key);
  });

  it('refuses to overwrite with forbidOverwrite', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const key = `${prefix}once.json`;
    await b.putObject(key, '{"v":1}', { contentType: 'application/json', forbidOverwrite: true });
    const err = await ossError(b.putObject(key, '{"v":2}', { forbidOverwrite: true }));
    expect([err.status, err.code]).toEqual([409, 'FileAlreadyExists']);
    expect((await b.getObject(key)).body.toString()).toBe('{"v":1}');
  });

  it('lists with delimiter and paging, and decodes url-encoded names', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const keys = ['l/a 1.ts', 'l/b+2.ts', 'l/sub/c.ts', 'l/sub/d.ts', 'l/ü.ts'].map((k) => prefix + k);
    for (const key of keys) await b.putObject(key, 'x');
    const page = await b.listObjects({ prefix: `${prefix}l/`, delimiter: '/' });
    expect(page.objects.map((o) => o.key)).toEqual([`${prefix}l/a 1.ts`, `${prefix}l/b+2.ts`, `${prefix}l/ü.ts`]);
    expect(page.commonPrefixes).toEqual([`${prefix}l/sub/`]);
    expect(page.isTruncated).toBe(false);
    const first = await b.listObjects({ prefix: `${prefix}l/`, maxKeys: 2 });
    expect(first.isTruncated).toBe(true);
    const second = await b.listObjects({
      prefix: `${prefix}l/`,
      maxKeys: 2,
      continuationToken: first.nextContinuationToken,
    });
    expect(second.objects.map((o) => o.key)).toEqual([keys[2], keys[3]]);
    expect((await collect(b.iterateObjects({ prefix: `${prefix}l/`, pageSize: 2 }))).map((o) => o.key)).toEqual(keys);
    expect((await collect(b.iterateObjects({ prefix: `${prefix}l/`, startAfter: keys[2] }))).map((o) => o.key)).toEqual(
      keys.slice(3),
    );
  });

  it('deletes many keys in batches of at most 1000, quiet and verbose', async () => {
    const b = makeClient({ signatureVersion, connections: 8 }).bucket(BUCKET);
    const keys = Array.from({ length: 1003 }, (_, i) => `${prefix}bulk/${String(i).padStart(4, '0')}.ts`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => b.putObject(k, 'ts')));
    const quiet = await b.deleteObjects(keys.slice(0, 1002));
    expect(quiet.errors).toEqual([]);
    expect(quiet.deleted).toHaveLength(1002);
    const verbose = await b.deleteObjects([keys[1002]!, `${prefix}bulk/never-existed.ts`], { quiet: false });
    expect(verbose.deleted.sort()).toEqual([keys[1002], `${prefix}bulk/never-existed.ts`].sort());
    expect(await collect(b.iterateObjects({ prefix: `${prefix}bulk/` }))).toEqual([]);
    expect(await b.deleteObjects([])).toEqual({ deleted: [], errors: [] });
  });

  it('presigns URLs a plain HTTP client can use', async () => {
    const b = makeClient({ signatureVersion }).bucket(BUCKET);
    const key = `${prefix}shared/clip (1).m3u8`;
    const put = await request(await b.presignUrl('PUT', key, { expiresInSeconds: 600 }), {
      method: 'PUT',
      body: '#EXTM3U\n',
    });
    await put.body.dump();
    expect(put.statusCode).toBe(200);
    const get = await request(await b.presignUrl('GET', key, { expiresInSeconds: 600 }));
    expect([get.statusCode, await get.body.text()]).toEqual([200, '#EXTM3U\n']);

    const expiring = await b.presignUrl('GET', key, { expiresInSeconds: 60 });
    await clock.advance(61_000);
    const late = await request(expiring);
    await late.body.dump();
    expect(late.statusCode).toBe(403);
  });
});

describe('STS credentials', () => {
  it.each(['v4', 'v1'] as const)('signs with the token (%s), including RTMP URLs', async (signatureVersion) => {
    const sts = emu.mintSts({ ttlSeconds: 900 });
    const b = makeClient({ signatureVersion, credentials: staticCredentials(sts) }).bucket(BUCKET);
    const name = `sts-${signatureVersion}`;
    await b.putLiveChannel(name);
    expect((await b.getLiveChannelStat(name)).status).toBe('Idle');
    const url = await b.signRtmpUrl(name, { expiresInSeconds: 300 });
    expect(new URL(url).searchParams.get('security-token')).toBe(sts.securityToken);
    await emu.ingest.start({ bucket: BUCKET, channel: name, signedUrl: url });
    expect((await b.getLiveChannelStat(name)).status).toBe('Live');
    await emu.ingest.stop({ bucket: BUCKET, channel: name });
    await b.putObject(`${name}/note.txt`, 'sts');
    const presigned = await request(await b.presignUrl('GET', `${name}/note.txt`, { expiresInSeconds: 60 }));
    expect([presigned.statusCode, await presigned.body.text()]).toEqual([200, 'sts']);
  });

  it('fails cleanly once the token has expired', async () => {
    const sts = emu.mintSts({ ttlSeconds: 60 });
    const b = makeClient({ credentials: staticCredentials(sts) }).bucket(BUCKET);
    await clock.advance(61_000);
    const err = await ossError(b.listLiveChannels());
    expect(err.status).toBe(403);
  });
});

describe('authentication failures and secrecy', () => {
  it('reports SignatureDoesNotMatch without leaking the secret or the signature', async () => {
    const secret = 'wrong-secret-do-not-log';
    const lines: string[] = [];
    const logger = createLogger({
      name: 'oss-test',
      level: 'debug',
      destination: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
    });
    const b = makeClient({
      credentials: staticCredentials({ accessKeyId: KEY.accessKeyId, accessKeySecret: secret }),
      logger,
    }).bucket(BUCKET);
    const err = await ossError(b.listObjects());
    expect([err.status, err.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err)).not.toMatch(/Signature=|OSS4-HMAC-SHA256 Credential/);
    expect(lines.join('')).not.toContain(secret);
  });

  it('validates before sending', async () => {
    const b = makeClient().bucket(BUCKET);
    await expect(b.putLiveChannel('a/b')).rejects.toThrow(OssValidationError);
    await expect(b.postVodPlaylist('cam', 'vod.m3u8', { startTime: 10, endTime: 10 + 86_401 })).rejects.toMatchObject({
      field: 'endTime',
    });
    await expect(b.signRtmpUrl('cam', { expiresInSeconds: 0 })).rejects.toMatchObject({ field: 'expiresInSeconds' });
    await expect(b.listObjects({ maxKeys: 1001 })).rejects.toMatchObject({ field: 'maxKeys' });
  });
});

describe('retries, network errors and deadlines (emulator faults)', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      name: 'oss-test',
      level: 'warn',
      destination: new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }),
    });
    return { lines, logger };
  }

  afterAll(() => emu.faults.set([]));

  it('retries throttling up to maxAttempts, logging each retry, then reports the 503', async () => {
    emu.faults.set([{ operation: 'GetLiveChannelStat', rate: 1, kind: 'throttle' }], 1);
    const { lines, logger } = capture();
    const b = makeClient({ logger, retry: { maxAttempts: 3, baseMs: 1, capMs: 2 } }).bucket(BUCKET);
    const err = await ossError(b.getLiveChannelStat('anything'));
    expect([err.status, err.code]).toEqual([503, 'MetaOperationQpsLimitExceeded']);
    expect(lines.map((l) => l.attempt)).toEqual([1, 2]);
    expect(lines[0]).toMatchObject({ op: 'GetLiveChannelStat', maxAttempts: 3, msg: 'retrying OSS request' });
  });

  it('recovers when a retry succeeds', async () => {
    const b = makeClient().bucket(BUCKET);
    await b.putLiveChannel('flaky');
    // Half the attempts fail (seeded, so the run repeats exactly); 10 attempts get every call through.
    emu.faults.set([{ operation: 'GetLiveChannelInfo', rate: 0.5, kind: 'internal-error' }], 7);
    const { lines, logger } = capture();
    const flaky = makeClient({ logger, retry: { maxAttempts: 10, baseMs: 1, capMs: 2 } }).bucket(BUCKET);
    for (let i = 0; i < 8; i++) expect((await flaky.getLiveChannelInfo('flaky')).status).toBe('enabled');
    expect(lines.length).toBeGreaterThan(0);
    emu.faults.set([]);
  });

  it('tells connection resets and truncated bodies apart from service errors', async () => {
    emu.faults.set([{ operation: 'ListObjectsV2', rate: 1, kind: 'reset' }]);
    const b = makeClient({ retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } }).bucket(BUCKET);
    await expect(b.listObjects()).rejects.toBeInstanceOf(OssNetworkError);
    emu.faults.set([{ operation: 'GetObject', rate: 1, kind: 'truncate' }]);
    await b.putObject('truncate-me.bin', Buffer.alloc(4096, 1));
    await expect(b.getObject('truncate-me.bin')).rejects.toBeInstanceOf(OssNetworkError);
    emu.faults.set([]);
  });

  it('does not retry a forbid-overwrite PUT', async () => {
    emu.faults.set([{ operation: 'PutObject', rate: 1, kind: 'internal-error' }]);
    const { lines, logger } = capture();
    const b = makeClient({ logger }).bucket(BUCKET);
    const err = await ossError(b.putObject('once-only.json', '{}', { forbidOverwrite: true }));
    expect(err.status).toBe(500);
    expect(lines).toEqual([]);
    emu.faults.set([]);
  });

  it('gives up at the per-call deadline with OssTimeoutError', async () => {
    emu.faults.set([{ operation: 'GetLiveChannelHistory', rate: 1, kind: 'stall', ms: 5_000 }]);
    const b = makeClient({ timeoutMs: 300 }).bucket(BUCKET);
    const err = await b.getLiveChannelHistory('anything').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OssTimeoutError);
    expect((err as OssTimeoutError).phase).toBe('deadline');
    emu.faults.set([]);
  });
});
