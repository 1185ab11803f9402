import { describe, expect, it } from 'vitest';
import { BUCKET, channelXml, makeLiveHarness, parseXml } from './live-helpers';

const HLS = '<Type>HLS</Type>';
const FULL = `<?xml version="1.0" encoding="UTF-8"?>
<LiveChannelConfiguration>
  <Description>ChannelDescription</Description>
  <Status>enabled</Status>
  <Target>
    <Type>HLS</Type>
    <FragDuration>2</FragDuration>
    <FragCount>4</FragCount>
    <PlaylistName>main.m3u8</PlaylistName>
  </Target>
  <Snapshot>
    <RoleName>role_for_snapshot</RoleName>
    <DestBucket>snapshotdest</DestBucket>
    <NotifyTopic>snapshotnotify</NotifyTopic>
    <Interval>1</Interval>
  </Snapshot>
</LiveChannelConfiguration>`;

describe('PutLiveChannel', () => {
  it('creates a channel and answers CreateLiveChannelResult with URLs built from the Host (§2)', async () => {
    const h = makeLiveHarness();
    const res = await h.call('PUT', 'test-channel', 'live', channelXml(HLS));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/xml');
    expect(parseXml(res.body)).toEqual({
      '?xml': '',
      CreateLiveChannelResult: {
        PublishUrls: { Url: [`rtmp://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/live/test-channel`] },
        PlayUrls: { Url: [`http://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/test-channel/playlist.m3u8`] },
      },
    });
    // Creating a channel writes no object (§2).
    expect(h.objects.keys(BUCKET)).toEqual([]);
  });

  it('fills in the defaults 5 / 3 / playlist.m3u8 and status enabled; empty elements count as absent', async () => {
    const h = makeLiveHarness();
    const body = channelXml(`${HLS}<PlaylistName />`, '<Description /><Status></Status>');
    expect((await h.call('PUT', 'c1', 'live', body)).status).toBe(200);
    const info = parseXml((await h.call('GET', 'c1', 'live')).body);
    expect(info.LiveChannelConfiguration).toEqual({
      Description: '',
      Status: 'enabled',
      Target: { Type: 'HLS', FragDuration: '5', FragCount: '3', PlaylistName: 'playlist.m3u8' },
    });
  });

  it('stores every field, echoes Snapshot in GetLiveChannelInfo, and accepts any element order in Target', async () => {
    const h = makeLiveHarness();
    const res = await h.call('PUT', 'c1', 'live', FULL);
    expect(parseXml(res.body).CreateLiveChannelResult.PlayUrls.Url).toEqual([
      `http://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/c1/main.m3u8`,
    ]);
    const info = await h.call('GET', 'c1', 'live');
    expect(info.body).toContain('<Description>ChannelDescription</Description>');
    expect(parseXml(info.body).LiveChannelConfiguration).toEqual({
      Description: 'ChannelDescription',
      Status: 'enabled',
      Target: { Type: 'HLS', FragDuration: '2', FragCount: '4', PlaylistName: 'main.m3u8' },
      Snapshot: {
        RoleName: 'role_for_snapshot',
        DestBucket: 'snapshotdest',
        NotifyTopic: 'snapshotnotify',
        Interval: '1',
      },
    });
    const reordered = channelXml(
      '<FragDuration>7</FragDuration><FragCount>9</FragCount><PlaylistName>x.m3u8</PlaylistName><Type>HLS</Type>',
    );
    expect((await h.call('PUT', 'c2', 'live', reordered)).status).toBe(200);
    expect(parseXml((await h.call('GET', 'c2', 'live')).body).LiveChannelConfiguration.Target).toEqual({
      Type: 'HLS',
      FragDuration: '7',
      FragCount: '9',
      PlaylistName: 'x.m3u8',
    });
  });

  it('re-putting replaces the configuration', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', FULL);
    await h.call('PUT', 'c1', 'live', channelXml(HLS, '<Status>disabled</Status>'));
    const info = parseXml((await h.call('GET', 'c1', 'live')).body).LiveChannelConfiguration;
    expect(info.Status).toBe('disabled');
    expect(info.Snapshot).toBeUndefined();
    expect(info.Target.FragDuration).toBe('5');
  });

  it('builds a fetchable path-style PlayUrl when the Host does not name the bucket', async () => {
    const h = makeLiveHarness();
    const res = await h.call('PUT', 'my channel', 'live', channelXml(HLS), { host: '127.0.0.1:9000' });
    expect(parseXml(res.body).CreateLiveChannelResult).toEqual({
      PublishUrls: { Url: [`rtmp://${BUCKET}.127.0.0.1:9000/live/my%20channel`] },
      PlayUrls: { Url: [`http://127.0.0.1:9000/${BUCKET}/my%20channel/playlist.m3u8`] },
    });
  });

  const invalid: [string, string, string | undefined][] = [
    ['Description over 128 bytes', channelXml(HLS, `<Description>${'é'.repeat(65)}</Description>`), '0044-00000001'],
    ['Status not enabled|disabled', channelXml(HLS, '<Status>on</Status>'), '0044-00000002'],
    ['Type RTMP', channelXml('<Type>RTMP</Type>'), '0044-00000013'],
    ['Type lower-case', channelXml('<Type>hls</Type>'), '0044-00000013'],
    ['no Target', '<LiveChannelConfiguration><Description>x</Description></LiveChannelConfiguration>', '0044-00000013'],
    ['FragDuration 200', channelXml(`${HLS}<FragDuration>200</FragDuration><FragCount>3</FragCount>`), '0044-00000014'],
    ['FragDuration 0', channelXml(`${HLS}<FragDuration>0</FragDuration><FragCount>3</FragCount>`), '0044-00000014'],
    ['FragDuration 2.5', channelXml(`${HLS}<FragDuration>2.5</FragDuration><FragCount>3</FragCount>`), '0044-00000014'],
    ['FragCount 0', channelXml(`${HLS}<FragDuration>5</FragDuration><FragCount>0</FragCount>`), '0044-00000015'],
    ['FragCount 199', channelXml(`${HLS}<FragDuration>5</FragDuration><FragCount>199</FragCount>`), '0044-00000015'],
    ['FragDuration without FragCount', channelXml(`${HLS}<FragDuration>5</FragDuration>`), '0044-00000015'],
    ['FragCount without FragDuration', channelXml(`${HLS}<FragCount>3</FragCount>`), '0044-00000014'],
    ['PlaylistName with /', channelXml(`${HLS}<PlaylistName>a/b.m3u8</PlaylistName>`), '0044-00000016'],
    [
      'PlaylistName too long',
      channelXml(`${HLS}<PlaylistName>${'a'.repeat(124)}.m3u8</PlaylistName>`),
      '0044-00000017',
    ],
    ['PlaylistName too short', channelXml(`${HLS}<PlaylistName>.m3u8</PlaylistName>`), '0044-00000017'],
    ['PlaylistName not .m3u8', channelXml(`${HLS}<PlaylistName>playlist.m3u</PlaylistName>`), '0044-00000018'],
    [
      'two Snapshot nodes',
      FULL.replace(
        '</LiveChannelConfiguration>',
        '<Snapshot><RoleName>r</RoleName></Snapshot></LiveChannelConfiguration>',
      ),
      '0044-00000003',
    ],
    ['Snapshot without NotifyTopic', FULL.replace('<NotifyTopic>snapshotnotify</NotifyTopic>', ''), '0044-00000006'],
    ['Snapshot with empty RoleName', FULL.replace('role_for_snapshot', ''), '0044-00000007'],
    ['Snapshot DestBucket invalid', FULL.replace('snapshotdest', 'Bad_Bucket'), '0044-00000008'],
    ['Snapshot Interval 101', FULL.replace('<Interval>1</Interval>', '<Interval>101</Interval>'), undefined],
  ];
  it.each(invalid)('refuses %s with 400 InvalidArgument (EC %s)', async (_what, body, ec) => {
    const h = makeLiveHarness();
    const res = await h.call('PUT', 'c1', 'live', body);
    expect([res.status, res.code, res.ec]).toEqual([400, 'InvalidArgument', ec]);
    expect((await h.call('GET', 'c1', 'live')).code).toBe('NoSuchLiveChannel');
  });

  it.each([
    ['an empty body', ''],
    ['broken XML', '<LiveChannelConfiguration><Target>'],
    ['another root', '<CreateBucketConfiguration/>'],
  ])('answers 400 MalformedXML to %s', async (_what, body) => {
    const res = await makeLiveHarness().call('PUT', 'c1', 'live', body);
    expect([res.status, res.code]).toEqual([400, 'MalformedXML']);
  });

  it('refuses channel names with "/" or over 1023 bytes, accepts spaces', async () => {
    const h = makeLiveHarness();
    expect((await h.call('PUT', 'a/b', 'live', channelXml(HLS))).code).toBe('InvalidArgument');
    expect((await h.call('PUT', 'x'.repeat(1024), 'live', channelXml(HLS))).code).toBe('InvalidArgument');
    expect((await h.call('PUT', 'x'.repeat(1023), 'live', channelXml(HLS))).status).toBe(200);
    expect((await h.call('PUT', 'live channel 2', 'live', channelXml(HLS))).status).toBe(200);
  });
});

describe('request matching', () => {
  it('accepts ?live and ?live= in any query order', async () => {
    const h = makeLiveHarness();
    expect((await h.call('PUT', 'c1', 'live=', channelXml(HLS))).operation).toBe('PutLiveChannel');
    expect((await h.call('GET', 'c1', 'comp=stat&live=')).operation).toBe('GetLiveChannelStat');
    expect((await h.call('GET', 'c1', 'comp=history&live')).operation).toBe('GetLiveChannelHistory');
    expect((await h.call('PUT', 'c1', 'status=disabled&live')).operation).toBe('PutLiveChannelStatus');
    expect((await h.call('GET', '', 'max-keys=1&live=')).operation).toBe('ListLiveChannel');
    expect((await h.call('POST', 'c1/v.m3u8', 'startTime=1&vod=&endTime=2')).operation).toBe('PostVodPlaylist');
    expect((await h.call('GET', 'c1', 'endTime=2&vod&startTime=1')).operation).toBe('GetVodPlaylist');
    expect((await h.call('DELETE', 'c1', 'live=')).operation).toBe('DeleteLiveChannel');
  });

  it('leaves requests without live/vod to the object operations', async () => {
    const h = makeLiveHarness();
    for (const [method, key, query] of [
      ['GET', 'c1', ''],
      ['PUT', 'c1', 'acl'],
      ['GET', '', 'list-type=2'],
      ['POST', 'c1/v.m3u8', 'append'],
    ]) {
      expect((await h.call(method!, key!, query!)).operation).toBeUndefined();
    }
  });

  it('refuses an unknown comp instead of treating it as GetLiveChannelInfo', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    expect((await h.call('GET', 'c1', 'live&comp=bogus')).code).toBe('InvalidArgument');
  });
});

describe('ListLiveChannel', () => {
  async function withChannels(names: string[]) {
    const h = makeLiveHarness();
    for (const n of names) expect((await h.call('PUT', n, 'live', channelXml(HLS))).status).toBe(200);
    return h;
  }
  const list = async (h: ReturnType<typeof makeLiveHarness>, query: string) => {
    const res = await h.call('GET', '', `live${query}`);
    expect(res.status).toBe(200);
    return parseXml(res.body).ListLiveChannelResult;
  };

  it('pages 200 channels by 100 with an exclusive marker and NextMarker = last name (§3)', async () => {
    const h = await withChannels(
      Array.from({ length: 200 }, (_, i) => `test-list-channel-${String(199 - i).padStart(3, '0')}`),
    );
    const first = await list(h, '');
    expect(first.LiveChannel).toHaveLength(100);
    expect(first.LiveChannel[0].Name).toBe('test-list-channel-000');
    expect([first.Prefix, first.Marker, first.MaxKeys, first.IsTruncated, first.NextMarker]).toEqual([
      '',
      '',
      '100',
      'true',
      'test-list-channel-099',
    ]);
    const rest = await list(h, '&marker=test-list-channel-100');
    expect(rest.LiveChannel).toHaveLength(99);
    expect(rest.IsTruncated).toBe('false');
    expect(rest.NextMarker).toBeUndefined();
    expect(rest.Marker).toBe('test-list-channel-100');
  });

  it('combines prefix, marker and max-keys like the ali-oss test', async () => {
    const h = await withChannels([
      'channel-list-1',
      'channel-list-4',
      'channel-list-5',
      'channel-list-6',
      'channel-list-7',
      'channel-list-8',
      'other',
    ]);
    const page = await list(h, '&prefix=channel-list-&marker=channel-list-4&max-keys=3');
    expect(page.LiveChannel.map((c: { Name: string }) => c.Name)).toEqual([
      'channel-list-5',
      'channel-list-6',
      'channel-list-7',
    ]);
    expect([page.Prefix, page.MaxKeys, page.IsTruncated, page.NextMarker]).toEqual([
      'channel-list-',
      '3',
      'true',
      'channel-list-7',
    ]);
  });

  it('returns UTF-8 byte order and every element of a LiveChannel entry', async () => {
    const h = await withChannels(['b', 'ä', 'B', 'a b', 'a']);
    await h.call(
      'PUT',
      'b',
      'live',
      channelXml(
        `${HLS}<PlaylistName>main.m3u8</PlaylistName>`,
        '<Description>desc &amp; more</Description><Status>disabled</Status>',
      ),
    );
    expect((await h.call('GET', '', 'live')).body).toContain('<Description>desc &amp; more</Description>');
    const page = await list(h, '');
    expect(page.LiveChannel.map((c: { Name: string }) => c.Name)).toEqual(['B', 'a', 'a b', 'b', 'ä']);
    expect(page.LiveChannel[3]).toEqual({
      Name: 'b',
      Description: 'desc & more',
      Status: 'disabled',
      LastModified: new Date(h.clock.now()).toISOString(),
      PublishUrls: { Url: [`rtmp://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/live/b`] },
      PlayUrls: { Url: [`http://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/b/main.m3u8`] },
    });
    expect(page.LiveChannel[3].LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('lists nothing for another bucket and answers an empty result', async () => {
    const h = await withChannels(['a']);
    const res = await h.call('GET', '', 'live', '', { bucket: 'snapshot-dest' });
    const page = parseXml(res.body).ListLiveChannelResult;
    expect(page.LiveChannel).toBeUndefined();
    expect(page.IsTruncated).toBe('false');
  });

  it.each([['max-keys=0'], ['max-keys=1001'], ['max-keys=-1'], ['max-keys=abc']])(
    'refuses %s with 400 InvalidArgument',
    async (q) => {
      const res = await makeLiveHarness().call('GET', '', `live&${q}`);
      expect([res.status, res.code]).toEqual([400, 'InvalidArgument']);
    },
  );

  it('refuses a prefix over 1024 bytes with EC 0044-00000102', async () => {
    const res = await makeLiveHarness().call('GET', '', `live&prefix=${'p'.repeat(1025)}`);
    expect([res.status, res.code, res.ec]).toEqual([400, 'InvalidArgument', '0044-00000102']);
  });
});

describe('DeleteLiveChannel, PutLiveChannelStatus, Info, Stat, History', () => {
  it('deletes with 204 and leaves the objects; a second delete is 404 NoSuchLiveChannel', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    await h.ctx.objects.put(BUCKET, 'c1/0000000000001.ts', Buffer.from('x'), {}, h.clock.now());
    const res = await h.call('DELETE', 'c1', 'live');
    expect([res.status, res.body]).toEqual([204, '']);
    expect(h.objects.keys(BUCKET)).toEqual(['c1/0000000000001.ts']);
    const again = await h.call('DELETE', 'c1', 'live');
    expect([again.status, again.code]).toEqual([404, 'NoSuchLiveChannel']);
    expect((await h.call('GET', 'c1', 'live')).status).toBe(404);
  });

  it('toggles the status, round-trips through Info, and Stat reports Disabled', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    const created = parseXml((await h.call('GET', '', 'live')).body).ListLiveChannelResult.LiveChannel[0].LastModified;
    await h.clock.advance(60_000);
    for (const status of ['disabled', 'enabled', 'disabled']) {
      const res = await h.call('PUT', 'c1', `live&status=${status}`);
      expect([res.status, res.body]).toEqual([200, '']);
      expect(parseXml((await h.call('GET', 'c1', 'live')).body).LiveChannelConfiguration.Status).toBe(status);
    }
    expect(parseXml((await h.call('GET', 'c1', 'live&comp=stat')).body)).toEqual({
      '?xml': '',
      LiveChannelStat: { Status: 'Disabled' },
    });
    const modified = parseXml((await h.call('GET', '', 'live')).body).ListLiveChannelResult.LiveChannel[0].LastModified;
    expect(Date.parse(modified) - Date.parse(created)).toBe(60_000);
  });

  it('refuses other status values (EC 0044-00000002) and unknown channels', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    for (const q of ['live&status=abcdefghi', 'live&status=', 'live&status=Enabled']) {
      const res = await h.call('PUT', 'c1', q);
      expect([res.status, res.code, res.ec]).toEqual([400, 'InvalidArgument', '0044-00000002']);
    }
    expect((await h.call('PUT', 'nope', 'live&status=enabled')).code).toBe('NoSuchLiveChannel');
  });

  it('answers Idle Stat and an empty History for a new channel, 404 for a missing one', async () => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    const stat = await h.call('GET', 'c1', 'live&comp=stat');
    expect(stat.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<LiveChannelStat>\n  <Status>Idle</Status>\n</LiveChannelStat>\n',
    );
    const history = await h.call('GET', 'c1', 'live&comp=history');
    expect(history.status).toBe(200);
    expect(parseXml(history.body).LiveChannelHistory).toBe('');
    for (const q of ['live&comp=stat', 'live&comp=history', 'live']) {
      const res = await h.call('GET', 'missing', q);
      expect([res.status, res.code]).toEqual([404, 'NoSuchLiveChannel']);
    }
  });
});

describe('VOD playlist errors', () => {
  it.each([
    ['no startTime', 'vod&endTime=100', '0044-00000304'],
    ['startTime not a number', 'vod&startTime=abc&endTime=100', '0044-00000304'],
    ['no endTime', 'vod&startTime=100', undefined],
    ['endTime before startTime', 'vod&startTime=200&endTime=100', undefined],
    ['endTime equal to startTime', 'vod&startTime=200&endTime=200', undefined],
    ['a span over one day', 'vod&startTime=100&endTime=86501', undefined],
    ['no fragment in range', 'vod&startTime=100&endTime=86500', '0044-00000308'],
  ])('GetVodPlaylist and PostVodPlaylist refuse %s with 400 InvalidArgument', async (_what, query, ec) => {
    const h = makeLiveHarness();
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    for (const [method, key] of [
      ['GET', 'c1'],
      ['POST', 'c1/vod.m3u8'],
    ] as const) {
      const res = await h.call(method, key, query);
      expect([res.status, res.code, res.ec]).toEqual([400, 'InvalidArgument', ec]);
    }
    expect(h.objects.keys(BUCKET)).toEqual([]);
  });

  it('answers 404 for a missing channel and 400 for a bad playlist name or a missing one', async () => {
    const h = makeLiveHarness();
    expect((await h.call('POST', 'nope/vod.m3u8', 'vod&startTime=1&endTime=2')).code).toBe('NoSuchLiveChannel');
    expect((await h.call('GET', 'nope', 'vod&startTime=1&endTime=2')).code).toBe('NoSuchLiveChannel');
    await h.call('PUT', 'c1', 'live', channelXml(HLS));
    expect((await h.call('POST', 'c1/vod.txt', 'vod&startTime=1&endTime=2')).ec).toBe('0044-00000018');
    expect((await h.call('POST', 'c1', 'vod&startTime=1&endTime=2')).code).toBe('InvalidArgument');
  });
});
