/**
 * `x-oss-process=hls/sign` (issue #12): a presigned GET of a private-bucket playlist returns it
 * with every segment URI signed the same way (version, key, STS token, expiry), so a player can
 * fetch each fragment; real HTTP, real signatures, hls-parser reading the result.
 */
import * as HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRtmpUrl, type SigningCredentials } from '../../shared/oss/signer';
import type { Emulator } from '../../local/emulator';
import { crc64 } from '../../local/emulator/storage/crc64';
import { adminCall, defaultCredentials, errorOf, oss, presignV2, rawRequest } from './helpers';
import { channelXml } from './live-helpers';
import { quietEmulator } from './setup';

const BUCKET = 'livecycle-demo';
const PLAYLIST = 'hls-ch/playlist.m3u8';
let emu: Emulator;

async function admin(method: string, path: string, body?: unknown) {
  expect((await adminCall(emu, method, path, body)).status).toBe(200);
}

beforeAll(async () => {
  emu = await quietEmulator();
  await oss(emu, {
    method: 'PUT',
    key: 'hls-ch',
    query: { live: '' },
    body: channelXml('<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>'),
  });
  const url = signRtmpUrl(
    `rtmp://${BUCKET}.${emu.endpoint}`,
    { bucket: BUCKET, channel: 'hls-ch', expires: Math.floor(emu.clock.now() / 1000) + 600 },
    defaultCredentials(emu),
  );
  await admin('POST', '/ingest/start', { bucket: BUCKET, channel: 'hls-ch', url });
  await admin('POST', '/clock', { advance: 8_000 });
});
afterAll(() => emu.stop());

/** Fetches the segments of a signed playlist served at `/<bucket>/<PLAYLIST>`: status and first byte of each. */
async function fetchSegments(
  playlistText: string,
): Promise<{ uris: string[]; results: [number, number | undefined][] }> {
  const playlist = HLS.parse(playlistText) as HLS.types.MediaPlaylist;
  const base = new URL(`${emu.url}/${BUCKET}/${PLAYLIST}`);
  const uris = playlist.segments.map((s) => s.uri);
  const results: [number, number | undefined][] = [];
  for (const uri of uris) {
    const target = new URL(uri, base);
    const res = await rawRequest(emu, 'GET', target.pathname + target.search, {});
    results.push([res.status, res.body[0]]);
    // Fragments written by ingest carry their CRC-64 like any object.
    if (res.status === 200) expect(res.headers['x-oss-hash-crc64ecma']).toBe(crc64(res.body));
  }
  return { uris, results };
}

describe('GET playlist?x-oss-process=hls/sign', () => {
  it('unsigned segment URIs of the raw playlist are refused (the bucket is private)', async () => {
    const raw = await oss(emu, { method: 'GET', key: PLAYLIST, auth: 'presign-v1' });
    expect(raw.status).toBe(200);
    const { uris, results } = await fetchSegments(raw.text);
    expect(uris.length).toBeGreaterThanOrEqual(3);
    expect(results.every(([status]) => status === 403)).toBe(true);
  });

  const sts = () => emu.mintSts({ ttlSeconds: 3600 });
  for (const [label, fetchPlaylist] of [
    [
      'V1',
      () =>
        oss(emu, {
          method: 'GET',
          key: PLAYLIST,
          query: { 'x-oss-process': 'hls/sign' },
          auth: 'presign-v1',
          expiresInSeconds: 300,
        }),
    ],
    [
      'V1 + STS',
      () =>
        oss(emu, {
          method: 'GET',
          key: PLAYLIST,
          query: { 'x-oss-process': 'hls/sign' },
          auth: 'presign-v1',
          expiresInSeconds: 300,
          credentials: sts(),
        }),
    ],
    [
      'V4',
      () =>
        oss(emu, {
          method: 'GET',
          key: PLAYLIST,
          query: { 'x-oss-process': 'hls/sign' },
          auth: 'presign-v4',
          expiresInSeconds: 300,
        }),
    ],
    [
      'V4 + STS',
      () =>
        oss(emu, {
          method: 'GET',
          key: PLAYLIST,
          query: { 'x-oss-process': 'hls/sign' },
          auth: 'presign-v4',
          expiresInSeconds: 300,
          credentials: sts(),
        }),
    ],
    [
      'V2',
      () =>
        rawRequest(
          emu,
          'GET',
          presignV2(BUCKET, PLAYLIST, Math.floor(emu.clock.now() / 1000) + 300, defaultCredentials(emu), {
            'x-oss-process': 'hls/sign',
          }),
          {},
        ),
    ],
    [
      'V2 + STS',
      () =>
        rawRequest(
          emu,
          'GET',
          presignV2(BUCKET, PLAYLIST, Math.floor(emu.clock.now() / 1000) + 300, sts(), { 'x-oss-process': 'hls/sign' }),
          {},
        ),
    ],
  ] as const) {
    it(`${label}: every segment URL of the signed playlist GETs 200 MPEG-TS, and expires with the playlist URL`, async () => {
      const res = await fetchPlaylist();
      expect(res.status).toBe(200);
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      const { uris, results } = await fetchSegments(res.text);
      expect(uris.length).toBeGreaterThanOrEqual(3);
      expect(uris.every((u) => !u.includes('://') && u.includes('?'))).toBe(true);
      expect(results).toEqual(uris.map(() => [200, 0x47]));
      // Same expiry as the playlist's own signature: 301 s later every segment URL is refused.
      await admin('POST', '/clock', { advance: 301_000 });
      const late = await fetchSegments(res.text);
      expect(late.results.map(([status]) => status)).toEqual(uris.map(() => 403));
    });
  }

  it('a segment URL with one byte changed → 403 SignatureDoesNotMatch', async () => {
    const res = await oss(emu, {
      method: 'GET',
      key: PLAYLIST,
      query: { 'x-oss-process': 'hls/sign' },
      auth: 'presign-v1',
      expiresInSeconds: 300,
    });
    const uri = (HLS.parse(res.text) as HLS.types.MediaPlaylist).segments[0]!.uri;
    const target = new URL(uri.replace('Expires=', 'Expires=1'), `${emu.url}/${BUCKET}/${PLAYLIST}`);
    const bad = await rawRequest(emu, 'GET', target.pathname + target.search, {});
    expect([bad.status, errorOf(bad).Code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses an Authorization-header signature (the signature must be in the URL) and a non-playlist object', async () => {
    const header = await oss(emu, { method: 'GET', key: PLAYLIST, query: { 'x-oss-process': 'hls/sign' } });
    expect([header.status, errorOf(header).Code, errorOf(header).EC]).toEqual([403, 'AccessDenied', '0044-00000410']);
    await oss(emu, { method: 'PUT', key: 'hls-ch/not-a-playlist.txt', body: 'x' });
    const other = await oss(emu, {
      method: 'GET',
      key: 'hls-ch/not-a-playlist.txt',
      query: { 'x-oss-process': 'hls/sign' },
      auth: 'presign-v1',
    });
    expect([other.status, errorOf(other).Code]).toEqual([400, 'InvalidArgument']);
  });
});
