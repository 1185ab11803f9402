import { createHash } from 'node:crypto';
import * as HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import { signRtmpUrl } from '../../shared/oss/signer';
import { AdminError, OssErrorResponse } from '../../local/emulator/types';
import { ACCESS_KEY, BUCKET, STS, T0, channelXml, makeLiveHarness, parseXml } from './live-helpers';

type Harness = ReturnType<typeof makeLiveHarness>;

const ORIGIN = `rtmp://${BUCKET}.127.0.0.1:9000`;
const FRAGMENT_NAME = /^c1\/\d{13}\.ts$/;

async function withChannel(
  target = '<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>',
  more = '',
  harness: Parameters<typeof makeLiveHarness>[0] = {},
) {
  const h = makeLiveHarness(harness);
  expect((await h.call('PUT', 'c1', 'live', channelXml(target, more))).status).toBe(200);
  return h;
}

function fragments(h: Harness, channel = 'c1'): string[] {
  return h.objects.keys(BUCKET, `${channel}/`).filter((k) => k.endsWith('.ts'));
}

async function text(h: Harness, key: string, bucket = BUCKET): Promise<string> {
  const obj = await h.ctx.objects.get(bucket, key);
  if (!obj) throw new Error(`no object ${bucket}/${key}`);
  return obj.body.toString();
}

async function refusal(p: Promise<unknown>): Promise<[number, string, string | undefined]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OssErrorResponse) return [err.status, err.code, err.extra['EC']];
    throw err;
  }
  throw new Error('expected the push to be refused');
}

const stat = async (h: Harness) => parseXml((await h.call('GET', 'c1', 'live&comp=stat')).body).LiveChannelStat;
const history = async (h: Harness) =>
  parseXml((await h.call('GET', 'c1', 'live&comp=history')).body).LiveChannelHistory.LiveRecord ?? [];

describe('a push on the emulator clock', () => {
  it('writes a fragment every FragDuration seconds and keeps a FragCount window in the live playlist', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(1_999);
    expect(h.objects.keys(BUCKET)).toEqual([]);
    await h.clock.advance(1);
    expect(fragments(h)).toHaveLength(1);
    expect(h.objects.keys(BUCKET)).toContain('c1/playlist.m3u8');

    await h.clock.advance(8_000);
    const written = fragments(h);
    expect(written).toHaveLength(5);
    for (const key of written) expect(key).toMatch(FRAGMENT_NAME);
    const records = await Promise.all(written.map((k) => h.ctx.objects.head(BUCKET, k)));
    expect(records.map((r) => r!.lastModified - T0)).toEqual([2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(records[0]!.contentType).toBe('video/MP2T');

    const playlistText = await text(h, 'c1/playlist.m3u8');
    const names = written.map((k) => k.slice(3));
    expect(playlistText).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-MEDIA-SEQUENCE:2',
        '#EXT-X-TARGETDURATION:2',
        ...names.slice(2).flatMap((n) => ['#EXTINF:2.000,', n]),
      ].join('\n') + '\n',
    );
    const playlist = HLS.parse(playlistText) as HLS.types.MediaPlaylist;
    expect(playlist.endlist).toBe(false);
    expect(playlist.mediaSequenceBase).toBe(2);
    expect(playlist.segments.map((s) => s.uri)).toEqual(names.slice(2));
    expect((await h.ctx.objects.head(BUCKET, 'c1/playlist.m3u8'))!.contentType).toBe('application/x-mpegURL');
  });

  it('reports Live with connection details, then Idle with a History record once stopped', async () => {
    const h = await withChannel();
    await h.clock.advance(500);
    const push = await h.service.ingest.start({ bucket: BUCKET, channel: 'c1', remoteAddr: '10.1.2.3:47745' });
    expect(push).toMatchObject({
      bucket: BUCKET,
      channel: 'c1',
      playlistName: 'playlist.m3u8',
      connectedTime: T0 + 500,
      remoteAddr: '10.1.2.3:47745',
    });
    const before = await stat(h);
    expect(before).toEqual({
      Status: 'Live',
      ConnectedTime: new Date(T0 + 500).toISOString(),
      RemoteAddr: '10.1.2.3:47745',
      Video: { Width: '320', Height: '180', FrameRate: '5', Bandwidth: '0', Codec: 'H264' },
      Audio: { Bandwidth: '0', SampleRate: '8000', Codec: 'AAC' },
    });
    await h.clock.advance(2_000);
    const live = await stat(h);
    expect(Number(live.Video.Bandwidth)).toBeGreaterThan(0);
    expect(Number(live.Audio.Bandwidth)).toBeGreaterThan(0);
    expect(await history(h)).toEqual([]);

    await h.clock.advance(3_000);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    expect(await stat(h)).toEqual({ Status: 'Idle' });
    expect(h.service.ingest.active()).toEqual([]);
    expect(await history(h)).toEqual([
      {
        StartTime: new Date(T0 + 500).toISOString(),
        EndTime: new Date(T0 + 5_500).toISOString(),
        RemoteAddr: '10.1.2.3:47745',
      },
    ]);
    // Fragments at +2 s and +4 s, and the 1 s tail flushed at the disconnect; the live playlist stays.
    expect(fragments(h)).toHaveLength(3);
    expect(await text(h, 'c1/playlist.m3u8')).not.toContain('#EXT-X-ENDLIST');
  });

  it('keeps the 10 most recent sessions in History, oldest first', async () => {
    const h = await withChannel();
    for (let i = 0; i < 12; i++) {
      await h.service.ingest.start({ bucket: BUCKET, channel: 'c1', remoteAddr: `10.0.0.${i}:1935` });
      await h.clock.advance(1_000);
      await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
      await h.clock.advance(1_000);
    }
    const records = await history(h);
    expect(records).toHaveLength(10);
    expect(records.map((r: { RemoteAddr: string }) => r.RemoteAddr)).toEqual(
      Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 2}:1935`),
    );
    expect(records[0].StartTime).toBe(new Date(T0 + 4_000).toISOString());
  });

  it('drops the publisher 10 s after the channel is disabled and refuses new pushes', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(3_000);
    expect((await h.call('PUT', 'c1', 'live&status=disabled')).status).toBe(200);
    expect(await stat(h)).toEqual({ Status: 'Disabled' });
    await h.clock.advance(9_999);
    expect(h.service.ingest.active()).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.service.ingest.active()).toEqual([]);
    expect((await history(h))[0].EndTime).toBe(new Date(T0 + 13_000).toISOString());
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1' }))).toEqual([
      409,
      'LiveChannelDisabled',
      undefined,
    ]);
  });

  it('refuses a second publisher, and Delete/PutLiveChannel while live, with 409 ChannelStillLive', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1' }))).toEqual([
      409,
      'ChannelStillLive',
      undefined,
    ]);
    const del = await h.call('DELETE', 'c1', 'live');
    expect([del.status, del.code]).toEqual([409, 'ChannelStillLive']);
    const put = await h.call('PUT', 'c1', 'live', channelXml('<Type>HLS</Type>'));
    expect([put.status, put.code]).toEqual([409, 'ChannelStillLive']);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    expect((await h.call('DELETE', 'c1', 'live')).status).toBe(204);
  });

  it('refuses pushes to missing channels and buckets', async () => {
    const h = await withChannel();
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'nope' }))).toEqual([
      404,
      'NoSuchLiveChannel',
      undefined,
    ]);
    expect(await refusal(h.service.ingest.start({ bucket: 'no-such-bucket', channel: 'c1' }))).toEqual([
      404,
      'NoSuchBucket',
      '0015-00000101',
    ]);
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', playlistName: 'bad.txt' }))).toEqual([
      400,
      'InvalidArgument',
      '0044-00000018',
    ]);
  });

  it('close() disconnects every publisher and records their sessions', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_000);
    await h.service.close();
    expect(h.service.ingest.active()).toEqual([]);
    expect(await history(h)).toHaveLength(1);
  });
});

describe('signed RTMP URLs', () => {
  const expiresIn = (h: Harness, s: number) => Math.floor(h.clock.now() / 1000) + s;
  const sign = (
    h: Harness,
    opts: {
      channel?: string;
      params?: Record<string, string>;
      expires?: number;
      creds?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
    } = {},
  ) =>
    signRtmpUrl(
      ORIGIN,
      {
        bucket: BUCKET,
        channel: opts.channel ?? 'c1',
        expires: opts.expires ?? expiresIn(h, 3600),
        params: opts.params,
      },
      opts.creds ?? { accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret },
    );

  it('accepts a URL signed by the client signer and honours its playlistName', async () => {
    const h = await withChannel();
    const url = sign(h, { params: { playlistName: 'custom.m3u8' } });
    const push = await h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: url });
    expect(push.playlistName).toBe('custom.m3u8');
    await h.clock.advance(2_000);
    expect(h.objects.keys(BUCKET, 'c1/').filter((k) => k.endsWith('.m3u8'))).toEqual(['c1/custom.m3u8']);
  });

  it('refuses an expired URL, but does not cut a connected stream when Expires passes', async () => {
    const h = await withChannel();
    const url = sign(h, { expires: expiresIn(h, 60) });
    await h.clock.advance(61_000);
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: url }))).toEqual([
      403,
      'AccessDenied',
      undefined,
    ]);
    const fresh = sign(h, { expires: expiresIn(h, 10) });
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: fresh });
    await h.clock.advance(30_000);
    expect(h.service.ingest.active()).toHaveLength(1);
  });

  it('refuses forged and tampered URLs with 403 SignatureDoesNotMatch', async () => {
    const h = await withChannel();
    const url = sign(h, { params: { playlistName: 'a.m3u8' } });
    const forged = url.replace(
      /Signature=([^&]+)/,
      (_m, sig: string) => `Signature=${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`,
    );
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: forged }))).toEqual([
      403,
      'SignatureDoesNotMatch',
      undefined,
    ]);
    const tampered = url.replace('playlistName=a.m3u8', 'playlistName=b.m3u8');
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: tampered }))).toEqual([
      403,
      'SignatureDoesNotMatch',
      undefined,
    ]);
    const wrongSecret = sign(h, { creds: { accessKeyId: ACCESS_KEY.id, accessKeySecret: 'not-the-secret' } });
    expect((await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: wrongSecret })))[1]).toBe(
      'SignatureDoesNotMatch',
    );
    expect(h.service.ingest.active()).toEqual([]);
  });

  it('refuses unknown keys (EC 0002-00000802), unsigned URLs and URLs for another channel, bucket or scheme', async () => {
    const h = await withChannel();
    await h.call('PUT', 'c2', 'live', channelXml('<Type>HLS</Type>'));
    const unknown = sign(h, { creds: { accessKeyId: 'nobody', accessKeySecret: 'x' } });
    expect(await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: unknown }))).toEqual([
      403,
      'InvalidAccessKeyId',
      '0002-00000802',
    ]);
    expect(
      await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: `${ORIGIN}/live/c1` })),
    ).toEqual([403, 'AccessDenied', undefined]);
    const forC2 = sign(h, { channel: 'c2' });
    expect((await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: forC2 })))[0]).toBe(400);
    const otherBucket = sign(h).replace(`${BUCKET}.`, 'other-bucket.');
    expect((await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: otherBucket })))[0]).toBe(
      400,
    );
    expect(
      (
        await refusal(
          h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: sign(h).replace('rtmp:', 'http:') }),
        )
      )[0],
    ).toBe(400);
    expect((await refusal(h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: 'not a url' })))[0]).toBe(
      400,
    );
  });

  it('accepts STS URLs whether the token was signed or not (reference §11.2 illustration)', async () => {
    const h = makeLiveHarness({ buckets: ['test-bucket'], startMs: 1706289000_000 });
    // The illustration's key `ak`/`sk`, valid alone and as an STS key with the token `token`.
    h.ctx.secretFor = (id, token) => (id === 'ak' && (token === undefined || token === 'token') ? 'sk' : undefined);
    await h.call('PUT', 'test-channel', 'live', channelXml('<Type>HLS</Type>'), { bucket: 'test-bucket' });
    const base =
      'rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/test-channel?Expires=1706289617&OSSAccessKeyId=ak&playlistName=playlist.m3u8&security-token=token';
    for (const sig of ['g7zpVcH5qEboQxnlHAwmHMwvR+0=', 'Wtf1SyjFZY2PTAsHSfYIp0LAG4Y=']) {
      const url = `${base}&Signature=${encodeURIComponent(sig)}`;
      await h.service.ingest.start({ bucket: 'test-bucket', channel: 'test-channel', signedUrl: url });
      await h.service.ingest.stop({ bucket: 'test-bucket', channel: 'test-channel' });
    }
    // Without params the string is `Expires\n/bucket/channel`; a '+' left unescaped stays '+'.
    await h.service.ingest.start({
      bucket: 'test-bucket',
      channel: 'test-channel',
      signedUrl:
        'rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/test-channel?OSSAccessKeyId=ak&Expires=1706289617&Signature=mQSBgojdePmvB9KCUQcI9o7cxXU=',
    });
    const wrongToken = `${base.replace('security-token=token', 'security-token=other')}&Signature=${encodeURIComponent('g7zpVcH5qEboQxnlHAwmHMwvR+0=')}`;
    await h.service.ingest.stop({ bucket: 'test-bucket', channel: 'test-channel' });
    expect(
      await refusal(h.service.ingest.start({ bucket: 'test-bucket', channel: 'test-channel', signedUrl: wrongToken })),
    ).toEqual([403, 'InvalidAccessKeyId', '0002-00000802']);
  });

  it('accepts a URL signed with STS credentials by the client signer', async () => {
    const h = await withChannel();
    const url = sign(h, { creds: { accessKeyId: STS.id, accessKeySecret: STS.secret, securityToken: STS.token } });
    expect(url).toContain('security-token=');
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1', signedUrl: url });
    expect(h.service.ingest.active()).toHaveLength(1);
  });
});

describe('VOD playlists from the fragments written', () => {
  /** Push 1: T0..T0+7 s (fragments at 0, 2, 4 and a 1 s tail at 6); push 2: T0+17..T0+21 (17, 19). */
  async function twoPushes(harness: Parameters<typeof makeLiveHarness>[0] = {}) {
    const h = await withChannel(undefined, undefined, harness);
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(7_000);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(10_000);
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_500);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    return h;
  }
  const s = (ms: number) => Math.floor((T0 + ms) / 1000);

  it('PostVodPlaylist stores the m3u8 of both pushes at <channel>/<playlist> with the reference text format', async () => {
    const h = await twoPushes();
    const names = fragments(h).map((k) => k.slice(3));
    expect(names).toHaveLength(6);
    const res = await h.call('POST', 'c1/vod.m3u8', `vod&endTime=${s(30_000)}&startTime=${s(0)}`);
    expect([res.status, res.body]).toEqual([200, '']);
    const stored = await h.ctx.objects.get(BUCKET, 'c1/vod.m3u8');
    expect(stored!.record.contentType).toBe('application/x-mpegURL');
    expect(res.headers['etag']).toBe(`"${createHash('md5').update(stored!.body).digest('hex').toUpperCase()}"`);
    const durations = ['2.000', '2.000', '2.000', '1.000', '2.000', '2.000'];
    expect(stored!.body.toString()).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-TARGETDURATION:2',
        ...names.flatMap((n, i) => [`#EXTINF:${durations[i]},`, n]),
        '#EXT-X-ENDLIST',
      ].join('\n') + '\n',
    );
    const parsed = HLS.parse(stored!.body.toString()) as HLS.types.MediaPlaylist;
    expect(parsed.endlist).toBe(true);
    expect(parsed.segments.map((seg) => seg.duration)).toEqual([2, 2, 2, 1, 2, 2]);
  });

  it('on a disabled channel PostVodPlaylist builds by default; refuseVodWhenDisabled answers 409 LiveChannelDisabled', async () => {
    // Whether OSS refuses is UNCONFIRMED (reference §16 item 3): the strict emulator lets the
    // stack prove it loses no VOD either way.
    const query = `vod&endTime=${s(30_000)}&startTime=${s(0)}`;
    for (const refuseVodWhenDisabled of [false, true]) {
      const h = await twoPushes({ refuseVodWhenDisabled });
      expect((await h.call('PUT', 'c1', 'live&status=disabled')).status).toBe(200);
      const res = await h.call('POST', 'c1/vod.m3u8', query);
      if (refuseVodWhenDisabled) {
        expect([res.status, res.code]).toEqual([409, 'LiveChannelDisabled']);
        expect(await h.ctx.objects.get(BUCKET, 'c1/vod.m3u8')).toBeUndefined();
        expect((await h.call('PUT', 'c1', 'live&status=enabled')).status).toBe(200);
        expect((await h.call('POST', 'c1/vod.m3u8', query)).status).toBe(200);
      } else expect(res.status).toBe(200);
      expect(await h.ctx.objects.get(BUCKET, 'c1/vod.m3u8')).toBeDefined();
      // GetVodPlaylist writes nothing and is answered either way.
      expect((await h.call('GET', 'c1', query)).status).toBe(200);
    }
  });

  it('GetVodPlaylist returns the same text and stores nothing; the range selects by fragment start, inclusive', async () => {
    const h = await twoPushes();
    const before = h.objects.keys(BUCKET);
    const all = await h.call('GET', 'c1', `vod&startTime=${s(0)}&endTime=${s(30_000)}`);
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/x-mpegURL');
    expect(all.headers['etag']).toBe(`"${createHash('md5').update(all.body).digest('hex').toUpperCase()}"`);
    expect(h.objects.keys(BUCKET)).toEqual(before);
    const names = fragments(h).map((k) => k.slice(3));
    const uris = async (from: number, to: number) => {
      const res = await h.call('GET', 'c1', `vod&startTime=${s(from)}&endTime=${s(to)}`);
      return (HLS.parse(res.body) as HLS.types.MediaPlaylist).segments.map((seg) => seg.uri);
    };
    expect(await uris(0, 30_000)).toEqual(names);
    expect(await uris(10_000, 30_000)).toEqual(names.slice(4));
    expect(await uris(2_000, 4_000)).toEqual(names.slice(1, 3));
    const gap = await h.call('GET', 'c1', `vod&startTime=${s(8_000)}&endTime=${s(16_000)}`);
    expect([gap.status, gap.ec]).toEqual([400, '0044-00000308']);
  });

  it('finds fragments on both sides of a 10-minute index shard boundary', async () => {
    const h = await withChannel('<Type>HLS</Type><FragDuration>1</FragDuration><FragCount>3</FragCount>');
    await h.clock.advance(598_000);
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_000);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    const res = await h.call('GET', 'c1', `vod&startTime=${s(598_000)}&endTime=${s(601_000)}`);
    expect((HLS.parse(res.body) as HLS.types.MediaPlaylist).segments.map((seg) => seg.uri)).toEqual(
      fragments(h).map((k) => k.slice(3)),
    );
  });

  it('skips a tail shorter than one second at the disconnect', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_900);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    expect(fragments(h)).toHaveLength(2);
  });

  it('names fragments above those of a deleted channel of the same name', async () => {
    const h = await withChannel();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(6_000);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    const old = fragments(h);
    await h.call('DELETE', 'c1', 'live');
    await h.clock.advance(1_000);
    await h.call(
      'PUT',
      'c1',
      'live',
      channelXml('<Type>HLS</Type><FragDuration>1</FragDuration><FragCount>3</FragCount>'),
    );
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(3_000);
    const now = fragments(h);
    expect(now.slice(0, old.length)).toEqual(old);
    expect(now).toHaveLength(old.length + 3);
    // The new channel's VOD sees only its own fragments.
    const res = await h.call('GET', 'c1', `vod&startTime=${s(0)}&endTime=${s(60_000)}`);
    expect((HLS.parse(res.body) as HLS.types.MediaPlaylist).segments).toHaveLength(3);
  });
});

describe('snapshots', () => {
  const snapshot = (dest: string) =>
    `<Snapshot><RoleName>role</RoleName><DestBucket>${dest}</DestBucket><NotifyTopic>snap-topic</NotifyTopic><Interval>3</Interval></Snapshot>`;

  it('writes a JPG to DestBucket and publishes a message to NotifyTopic every Interval seconds', async () => {
    const h = await withChannel(undefined, snapshot('snapshot-dest'));
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(7_000);
    const jpgs = h.objects.keys('snapshot-dest');
    expect(jpgs).toEqual([`c1/${T0 + 3_000}.jpg`, `c1/${T0 + 6_000}.jpg`]);
    const jpg = await h.ctx.objects.get('snapshot-dest', jpgs[0]!);
    expect(jpg!.record.contentType).toBe('image/jpeg');
    expect(jpg!.body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(h.topics.published.map((m) => [m.topic, JSON.parse(m.body)])).toEqual(
      [3_000, 6_000].map((t) => [
        'snap-topic',
        {
          event: 'LiveChannelSnapshot',
          bucket: BUCKET,
          channel: 'c1',
          destBucket: 'snapshot-dest',
          object: `c1/${T0 + t}.jpg`,
          time: new Date(T0 + t).toISOString(),
        },
      ]),
    );
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(10_000);
    expect(h.topics.published).toHaveLength(2);
  });

  it('skips snapshots for a DestBucket the emulator does not know, and says so', async () => {
    const h = await withChannel(undefined, snapshot('nowhere-bucket'));
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(6_000);
    expect(h.topics.published).toEqual([]);
    const [push] = h.service.ingest.active();
    expect(push).toMatchObject({ snapshotsWritten: 0, snapshotsSkipped: 2 });
    expect(push!.lastProblem).toContain('nowhere-bucket');
    expect(fragments(h)).toHaveLength(3);
  });
});

describe('admin routes', () => {
  const route = (h: Harness, method: string, path: string) => {
    const r = h.service.adminRoutes.find((x) => x.method === method && x.path === path);
    if (!r) throw new Error(`no admin route ${method} ${path}`);
    return (body: unknown) => r.handle(body, h.ctx);
  };
  const adminStatus = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AdminError) return [err.status, err.message];
      throw err;
    }
    throw new Error('expected an AdminError');
  };

  it('starts, lists and stops pushes, with clear errors', async () => {
    const h = await withChannel();
    const start = route(h, 'POST', '/ingest/start');
    const stop = route(h, 'POST', '/ingest/stop');
    const list = route(h, 'GET', '/ingest');
    expect((await adminStatus(start({ channel: 'c1' })))[0]).toBe(400);
    expect((await adminStatus(start({ bucket: BUCKET, channel: 7 })))[0]).toBe(400);
    expect(await adminStatus(start({ bucket: BUCKET, channel: 'nope' }))).toEqual([
      404,
      'NoSuchLiveChannel: The specified live channel does not exist.',
    ]);
    const push = await start({ bucket: BUCKET, channel: 'c1', playlistName: 'admin.m3u8' });
    expect(push).toMatchObject({ bucket: BUCKET, channel: 'c1', playlistName: 'admin.m3u8', fragmentsWritten: 0 });
    await h.clock.advance(4_000);
    expect(await list(undefined)).toMatchObject({ pushes: [{ channel: 'c1', fragmentsWritten: 2 }] });
    expect((await adminStatus(start({ bucket: BUCKET, channel: 'c1' })))[0]).toBe(409);
    expect(await stop({ bucket: BUCKET, channel: 'c1' })).toMatchObject({
      stopped: true,
      push: { endTime: T0 + 4_000, fragmentsWritten: 2 },
    });
    expect(await list(undefined)).toMatchObject({
      pushes: [],
      ended: [{ channel: 'c1', playlistName: 'admin.m3u8', endTime: T0 + 4_000 }],
    });
    expect((await adminStatus(stop({ bucket: BUCKET, channel: 'c1' })))[0]).toBe(404);
    expect((await adminStatus(start({ bucket: BUCKET, channel: 'c1', seconds: -1 })))[0]).toBe(400);
    const timed = await start({ bucket: BUCKET, channel: 'c1', seconds: 5 });
    expect(timed).toMatchObject({ stopAt: T0 + 9_000 });
    await h.clock.advance(4_999);
    expect(h.service.ingest.active()).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.service.ingest.active()).toEqual([]);
    expect((await history(h)).map((r: { EndTime: string }) => r.EndTime)).toEqual([
      new Date(T0 + 4_000).toISOString(),
      new Date(T0 + 9_000).toISOString(),
    ]);
    const url = signRtmpUrl(
      ORIGIN,
      { bucket: BUCKET, channel: 'c1', expires: Math.floor(h.clock.now() / 1000) - 1 },
      { accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret },
    );
    expect((await adminStatus(start({ bucket: BUCKET, channel: 'c1', url })))[0]).toBe(403);
  });

  it('lists a disconnecting push until it is listed as ended (a watcher polling in between never loses it)', async () => {
    const h = await withChannel();
    const list = route(h, 'GET', '/ingest');
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(3_000);
    // The disconnect has begun (its tail fragment and History write are pending), not finished.
    const stopping = h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    const during = (await list(undefined)) as { pushes: unknown[]; ended: unknown[] };
    expect(during).toMatchObject({ pushes: [{ channel: 'c1', connectedTime: T0 }], ended: [] });
    await stopping;
    expect(await list(undefined)).toMatchObject({
      pushes: [],
      ended: [{ channel: 'c1', connectedTime: T0, endTime: T0 + 3_000 }],
    });
  });
});
