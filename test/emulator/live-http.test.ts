/**
 * The LiveChannel service mounted in the real emulator: raw HTTP with real signatures, the
 * server's routing and error rendering, and the admin API driving a push.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as HLS from 'hls-parser';
import { signRequestV1, signRtmpUrl } from '../../shared/oss/signer';
import type { Emulator } from '../../local/emulator';
import { adminCall, defaultCredentials, errorOf, oss, parseXml, rawRequest } from './helpers';
import { quietEmulator } from './setup';
import { channelXml } from './live-helpers';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator();
});
afterAll(() => emu.stop());

const admin = (method: string, path: string, body?: unknown) => adminCall(emu, method, path, body);

/** A V1-signed request sent to a target written by hand (query spelling, %2F in the path). */
function handWritten(method: string, target: string, signed: { key: string; query: Record<string, string> }) {
  const headers = signRequestV1(
    { method, bucket: 'livecycle-demo', key: signed.key, query: signed.query },
    defaultCredentials(emu),
    emu.clock.now(),
  );
  return rawRequest(emu, method, target, headers);
}

describe('LiveChannel over HTTP', () => {
  it('creates a channel, pushes through the admin API with a signed RTMP URL, and serves Stat, playlist and History', async () => {
    const put = await oss(emu, {
      method: 'PUT',
      key: 'http-ch',
      query: { live: '' },
      body: channelXml('<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>2</FragCount>'),
    });
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/xml');
    expect(put.headers['x-oss-request-id']).toBeTruthy();
    const urls = parseXml(put.text).CreateLiveChannelResult;
    expect(urls.PublishUrls.Url).toBe(`rtmp://livecycle-demo.${emu.endpoint}/live/http-ch`);
    expect(urls.PlayUrls.Url).toBe(`${emu.url}/livecycle-demo/http-ch/playlist.m3u8`);

    const url = signRtmpUrl(
      urls.PublishUrls.Url.replace(/\/live\/.*$/, ''),
      { bucket: 'livecycle-demo', channel: 'http-ch', expires: Math.floor(emu.clock.now() / 1000) + 600 },
      defaultCredentials(emu),
    );
    const started = await admin('POST', '/ingest/start', {
      bucket: 'livecycle-demo',
      channel: 'http-ch',
      url,
      remoteAddr: '10.9.8.7:5000',
    });
    expect(started.status).toBe(200);
    expect(started.json).toMatchObject({
      channel: 'http-ch',
      remoteAddr: '10.9.8.7:5000',
      connectedTime: emu.clock.now(),
    });
    expect((await admin('POST', '/clock', { advance: 6_000 })).status).toBe(200);
    expect((await admin('GET', '/ingest')).json.pushes).toMatchObject([{ channel: 'http-ch', fragmentsWritten: 3 }]);

    const stat = await oss(emu, { method: 'GET', key: 'http-ch', query: { live: '', comp: 'stat' }, auth: 'v1' });
    expect(parseXml(stat.text).LiveChannelStat).toMatchObject({
      Status: 'Live',
      RemoteAddr: '10.9.8.7:5000',
      Video: { Codec: 'H264' },
    });

    const playlist = await oss(emu, { method: 'GET', key: 'http-ch/playlist.m3u8' });
    expect(playlist.status).toBe(200);
    expect(playlist.headers['content-type']).toBe('application/x-mpegURL');
    const parsed = HLS.parse(playlist.text) as HLS.types.MediaPlaylist;
    expect([parsed.mediaSequenceBase, parsed.segments.length, parsed.endlist]).toEqual([1, 2, false]);
    const fragment = await oss(emu, { method: 'GET', key: `http-ch/${parsed.segments[1]!.uri}` });
    expect([fragment.status, fragment.body[0]]).toEqual([200, 0x47]); // MPEG-TS sync byte

    expect((await admin('POST', '/ingest/stop', { bucket: 'livecycle-demo', channel: 'http-ch' })).json).toMatchObject({
      stopped: true,
      push: { fragmentsWritten: 3 },
    });
    const history = await oss(emu, { method: 'GET', key: 'http-ch', query: { live: '', comp: 'history' } });
    expect(parseXml(history.text).LiveChannelHistory.LiveRecord).toMatchObject({ RemoteAddr: '10.9.8.7:5000' });
  });

  it('matches ?live= with the sub-resources in any order, and a %2F between channel and playlist', async () => {
    await oss(emu, {
      method: 'PUT',
      key: 'order-ch',
      query: { live: '' },
      body: channelXml('<Type>HLS</Type><FragDuration>1</FragDuration><FragCount>3</FragCount>'),
    });
    const stat = await handWritten('GET', '/livecycle-demo/order-ch?comp=stat&live=', {
      key: 'order-ch',
      query: { live: '', comp: 'stat' },
    });
    expect([stat.status, parseXml(stat.text).LiveChannelStat.Status]).toEqual([200, 'Idle']);

    const from = Math.floor(emu.clock.now() / 1000);
    await admin('POST', '/ingest/start', { bucket: 'livecycle-demo', channel: 'order-ch' });
    await admin('POST', '/clock', { advance: 3_000 });
    await admin('POST', '/ingest/stop', { bucket: 'livecycle-demo', channel: 'order-ch' });
    const query = { vod: '', endTime: String(from + 60), startTime: String(from) };
    const post = await handWritten(
      'POST',
      `/livecycle-demo/order-ch%2Fvod.m3u8?vod=&startTime=${from}&endTime=${from + 60}`,
      { key: 'order-ch/vod.m3u8', query },
    );
    expect(post.status).toBe(200);
    expect(post.headers['etag']).toMatch(/^"[0-9A-F]{32}"$/);
    const stored = await oss(emu, { method: 'GET', key: 'order-ch/vod.m3u8' });
    expect(stored.headers['etag']).toBe(post.headers['etag']);
    expect((HLS.parse(stored.text) as HLS.types.MediaPlaylist).segments).toHaveLength(3);
    const vod = await oss(emu, { method: 'GET', key: 'order-ch', query, auth: 'v1' });
    expect(vod.text).toBe(stored.text);
  });

  it('renders LiveChannel errors as OSS error XML with Code and EC', async () => {
    const missing = await oss(emu, { method: 'GET', key: 'nope', query: { live: '' } });
    expect(missing.status).toBe(404);
    expect(errorOf(missing)).toMatchObject({ Code: 'NoSuchLiveChannel' });
    const bad = await oss(emu, {
      method: 'PUT',
      key: 'bad-ch',
      query: { live: '' },
      body: channelXml('<Type>RTMP</Type>'),
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatchObject({ Code: 'InvalidArgument', EC: '0044-00000013' });
    const anonymous = await oss(emu, { method: 'DELETE', key: 'bad-ch', query: { live: '' }, auth: 'none' });
    expect(anonymous.status).toBe(403);
    const refused = await admin('POST', '/ingest/start', { bucket: 'livecycle-demo', channel: 'nope' });
    expect(refused).toEqual({
      status: 404,
      json: { error: 'NoSuchLiveChannel: The specified live channel does not exist.' },
    });
  });

  it('verifies a sent Content-MD5 on PutLiveChannel as PutObject does → 400 InvalidDigest, nothing created', async () => {
    const body = channelXml('<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>2</FragCount>');
    const md5 = (text: string) => createHash('md5').update(text).digest('base64');
    for (const sent of [md5(`${body} `), 'not-base64-md5']) {
      const bad = await oss(emu, {
        method: 'PUT',
        key: 'md5-ch',
        query: { live: '' },
        body,
        headers: { 'content-md5': sent },
      });
      expect(bad.status, sent).toBe(400);
      expect(errorOf(bad)).toMatchObject({ Code: 'InvalidDigest', 'Content-MD5': sent });
      expect((await oss(emu, { method: 'GET', key: 'md5-ch', query: { live: '' } })).status).toBe(404);
    }
    const ok = await oss(emu, {
      method: 'PUT',
      key: 'md5-ch',
      query: { live: '' },
      body,
      headers: { 'content-md5': md5(body) },
    });
    expect(ok.status).toBe(200);
  });
});

describe('LiveChannel state in a data directory', () => {
  it('keeps channels, History and the fragment index across a restart; the push itself ends with the emulator', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'livecycle-live-'));
    try {
      const first = await quietEmulator({ dataDir });
      const from = Math.floor(first.clock.now() / 1000);
      await oss(first, {
        method: 'PUT',
        key: 'kept',
        query: { live: '' },
        body: channelXml(
          '<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>',
          '<Description>still here</Description>',
        ),
      });
      await first.ingest.start({ bucket: 'livecycle-demo', channel: 'kept' });
      await first.clock.advance(4_000);
      await first.stop();

      const second = await quietEmulator({ dataDir, clock: first.clock });
      try {
        const info = await oss(second, { method: 'GET', key: 'kept', query: { live: '' } });
        expect(parseXml(info.text).LiveChannelConfiguration.Description).toBe('still here');
        expect(
          parseXml((await oss(second, { method: 'GET', key: 'kept', query: { live: '', comp: 'stat' } })).text)
            .LiveChannelStat.Status,
        ).toBe('Idle');
        const history = parseXml(
          (await oss(second, { method: 'GET', key: 'kept', query: { live: '', comp: 'history' } })).text,
        ).LiveChannelHistory;
        expect(history.LiveRecord).toMatchObject({ EndTime: new Date(first.clock.now()).toISOString() });
        const vod = await oss(second, {
          method: 'GET',
          key: 'kept',
          query: { vod: '', startTime: String(from), endTime: String(from + 60) },
        });
        const segments = (HLS.parse(vod.text) as HLS.types.MediaPlaylist).segments;
        expect(segments).toHaveLength(2);
        expect((await oss(second, { method: 'GET', key: `kept/${segments[0]!.uri}` })).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
