import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildDeleteRequest,
  buildLiveChannelConfiguration,
  parseCreateLiveChannelResult,
  parseDeleteResult,
  parseErrorBody,
  parseLiveChannelConfiguration,
  parseLiveChannelHistory,
  parseLiveChannelStat,
  parseListBucketResult,
  parseListLiveChannelResult,
  XmlShapeError,
} from '../../shared/oss/xml';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

// Sample bodies from the reference (oss-livechannel.md), verbatim.
const ERROR_XML = `${DECL}<Error>
  <Code>NoSuchBucket</Code>
  <Message>The specified bucket does not exist.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>test.oss-cn-hangzhou.aliyuncs.com</HostId>
  <BucketName>test</BucketName>
  <EC>0015-00000101</EC>
</Error>`;

const CREATE_RESULT = `${DECL}<CreateLiveChannelResult>
  <PublishUrls>
    <Url>rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/test-channel</Url>
  </PublishUrls>
  <PlayUrls>
    <Url>http://test-bucket.oss-cn-hangzhou.aliyuncs.com/test-channel/playlist.m3u8</Url>
  </PlayUrls>
</CreateLiveChannelResult>`;

const LIST_RESULT = `${DECL}<ListLiveChannelResult>
  <Prefix></Prefix>
  <Marker></Marker>
  <MaxKeys>1</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextMarker>channel-0</NextMarker>
  <LiveChannel>
    <Name>channel-0</Name>
    <Description></Description>
    <Status>disabled</Status>
    <LastModified>2016-07-30T01:54:21.000Z</LastModified>
    <PublishUrls>
      <Url>rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/channel-0</Url>
    </PublishUrls>
    <PlayUrls>
      <Url>http://test-bucket.oss-cn-hangzhou.aliyuncs.com/channel-0/playlist.m3u8</Url>
    </PlayUrls>
  </LiveChannel>
</ListLiveChannelResult>`;

const INFO = `${DECL}<LiveChannelConfiguration>
  <Description></Description>
  <Status>enabled</Status>
  <Target>
    <Type>HLS</Type>
    <FragDuration>2</FragDuration>
    <FragCount>3</FragCount>
    <PlaylistName>playlist.m3u8</PlaylistName>
  </Target>
</LiveChannelConfiguration>`;

const STAT_IDLE = `${DECL}<LiveChannelStat>
  <Status>Idle</Status>
</LiveChannelStat>`;

const STAT_LIVE = `${DECL}<LiveChannelStat>
  <Status>Live</Status>
  <ConnectedTime>2016-08-25T06:25:15.000Z</ConnectedTime>
  <RemoteAddr>10.1.2.3:47745</RemoteAddr>
  <Video>
    <Width>1280</Width>
    <Height>536</Height>
    <FrameRate>24</FrameRate>
    <Bandwidth>0</Bandwidth>
    <Codec>H264</Codec>
  </Video>
  <Audio>
    <Bandwidth>0</Bandwidth>
    <SampleRate>44100</SampleRate>
    <Codec>ADPCM</Codec>
  </Audio>
</LiveChannelStat>`;

const HISTORY = `${DECL}<LiveChannelHistory>
  <LiveRecord>
    <StartTime>2016-07-30T01:53:21.000Z</StartTime>
    <EndTime>2016-07-30T01:53:31.000Z</EndTime>
    <RemoteAddr>10.101.194.148:56861</RemoteAddr>
  </LiveRecord>
  <LiveRecord>
    <StartTime>2016-07-30T01:53:35.000Z</StartTime>
    <EndTime>2016-07-30T01:53:45.000Z</EndTime>
    <RemoteAddr>10.101.194.148:57126</RemoteAddr>
  </LiveRecord>
</LiveChannelHistory>`;

const LIST_BUCKET = `${DECL}<ListBucketResult>
  <Name>examplebucket</Name>
  <Prefix>a/</Prefix>
  <MaxKeys>100</MaxKeys>
  <Delimiter>/</Delimiter>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>CgJiYw--</NextContinuationToken>
  <Contents>
    <Key>a/b</Key>
    <LastModified>2020-05-18T05:45:47.000Z</LastModified>
    <ETag>"35A27C2B9EAEEB6F48FD7FB5861D****"</ETag>
    <Size>25</Size>
    <StorageClass>Standard</StorageClass>
  </Contents>
  <CommonPrefixes>
    <Prefix>a/b/</Prefix>
  </CommonPrefixes>
  <KeyCount>2</KeyCount>
</ListBucketResult>`;

const DELETE_RESULT = `${DECL}<DeleteResult>
  <EncodingType>url</EncodingType>
  <Deleted>
    <Key>key1.txt</Key>
  </Deleted>
  <Deleted>
    <Key>key2.txt</Key>
  </Deleted>
</DeleteResult>`;

describe('response bodies from the reference', () => {
  it('Error', () => {
    expect(parseErrorBody(ERROR_XML)).toEqual({
      code: 'NoSuchBucket',
      message: 'The specified bucket does not exist.',
      requestId: '5C3D9175B6FC201293AD****',
      hostId: 'test.oss-cn-hangzhou.aliyuncs.com',
      ec: '0015-00000101',
    });
  });

  it('Error with the old namespace', () => {
    expect(
      parseErrorBody(
        '<Error xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"><Code>AccessDenied</Code><Message>no</Message></Error>',
      ).code,
    ).toBe('AccessDenied');
  });

  it('CreateLiveChannelResult', () => {
    expect(parseCreateLiveChannelResult(CREATE_RESULT)).toEqual({
      publishUrls: ['rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/test-channel'],
      playUrls: ['http://test-bucket.oss-cn-hangzhou.aliyuncs.com/test-channel/playlist.m3u8'],
    });
  });

  it('ListLiveChannelResult (one channel is still an array; times to ms)', () => {
    expect(parseListLiveChannelResult(LIST_RESULT)).toEqual({
      isTruncated: true,
      nextMarker: 'channel-0',
      channels: [
        {
          name: 'channel-0',
          description: '',
          status: 'disabled',
          lastModified: Date.UTC(2016, 6, 30, 1, 54, 21),
          publishUrls: ['rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/channel-0'],
          playUrls: ['http://test-bucket.oss-cn-hangzhou.aliyuncs.com/channel-0/playlist.m3u8'],
        },
      ],
    });
  });

  it('ListLiveChannelResult empty, with NextMarker absent or empty alike', () => {
    const base =
      '<ListLiveChannelResult><Prefix></Prefix><Marker></Marker><MaxKeys>100</MaxKeys><IsTruncated>false</IsTruncated>';
    expect(parseListLiveChannelResult(`${base}</ListLiveChannelResult>`)).toEqual({ channels: [], isTruncated: false });
    expect(parseListLiveChannelResult(`${base}<NextMarker></NextMarker></ListLiveChannelResult>`)).toEqual({
      channels: [],
      isTruncated: false,
    });
    expect(parseListLiveChannelResult(`${base}<NextMarker/></ListLiveChannelResult>`)).toEqual({
      channels: [],
      isTruncated: false,
    });
  });

  it('keeps numeric-looking names as strings', () => {
    const xml = LIST_RESULT.replace(/channel-0/g, '0001');
    const result = parseListLiveChannelResult(xml);
    expect(result.channels[0]!.name).toBe('0001');
    expect(result.nextMarker).toBe('0001');
  });

  it('LiveChannelConfiguration (GetLiveChannelInfo)', () => {
    expect(parseLiveChannelConfiguration(INFO)).toEqual({
      description: '',
      status: 'enabled',
      target: { type: 'HLS', fragDuration: 2, fragCount: 3, playlistName: 'playlist.m3u8' },
    });
  });

  it('LiveChannelConfiguration echoing a Snapshot', () => {
    const xml = INFO.replace(
      '</LiveChannelConfiguration>',
      '<Snapshot><RoleName>r</RoleName><DestBucket>snapshotdest</DestBucket><NotifyTopic>t</NotifyTopic><Interval>1</Interval></Snapshot></LiveChannelConfiguration>',
    );
    expect(parseLiveChannelConfiguration(xml).snapshot).toEqual({
      roleName: 'r',
      destBucket: 'snapshotdest',
      notifyTopic: 't',
      interval: 1,
    });
  });

  it('LiveChannelStat idle and live', () => {
    expect(parseLiveChannelStat(STAT_IDLE)).toEqual({ status: 'Idle' });
    expect(parseLiveChannelStat(STAT_LIVE)).toEqual({
      status: 'Live',
      connectedTime: Date.UTC(2016, 7, 25, 6, 25, 15),
      remoteAddr: '10.1.2.3:47745',
      video: { width: 1280, height: 536, frameRate: 24, bandwidth: 0, codec: 'H264' },
      audio: { bandwidth: 0, sampleRate: 44100, codec: 'ADPCM' },
    });
  });

  it('LiveChannelHistory with records, and both empty forms', () => {
    expect(parseLiveChannelHistory(HISTORY)).toEqual([
      {
        startTime: Date.UTC(2016, 6, 30, 1, 53, 21),
        endTime: Date.UTC(2016, 6, 30, 1, 53, 31),
        remoteAddr: '10.101.194.148:56861',
      },
      {
        startTime: Date.UTC(2016, 6, 30, 1, 53, 35),
        endTime: Date.UTC(2016, 6, 30, 1, 53, 45),
        remoteAddr: '10.101.194.148:57126',
      },
    ]);
    expect(parseLiveChannelHistory(`${DECL}<LiveChannelHistory/>`)).toEqual([]);
    expect(parseLiveChannelHistory(`${DECL}<LiveChannelHistory></LiveChannelHistory>`)).toEqual([]);
  });

  it('ListBucketResult (ListObjectsV2)', () => {
    expect(parseListBucketResult(LIST_BUCKET)).toEqual({
      objects: [
        {
          key: 'a/b',
          lastModified: Date.UTC(2020, 4, 18, 5, 45, 47),
          etag: '35A27C2B9EAEEB6F48FD7FB5861D****',
          size: 25,
          storageClass: 'Standard',
        },
      ],
      commonPrefixes: ['a/b/'],
      isTruncated: true,
      nextContinuationToken: 'CgJiYw--',
      keyCount: 2,
    });
  });

  it('ListBucketResult decodes url-encoded names and handles an empty listing', () => {
    const xml = LIST_BUCKET.replace('<Key>a/b</Key>', '<Key>a%2Fb%20c%2B%E4%B8%AD</Key>');
    expect(parseListBucketResult(xml).objects[0]!.key).toBe('a/b c+中');
    expect(
      parseListBucketResult(
        '<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>',
      ),
    ).toEqual({
      objects: [],
      commonPrefixes: [],
      isTruncated: false,
      keyCount: 0,
    });
  });

  it('DeleteResult, and per-key errors', () => {
    expect(parseDeleteResult(DELETE_RESULT)).toEqual({ deleted: ['key1.txt', 'key2.txt'], errors: [] });
    expect(
      parseDeleteResult(
        '<DeleteResult><Error><Key>a%20b</Key><Code>AccessDenied</Code><Message>no</Message></Error><EncodingType>url</EncodingType></DeleteResult>',
      ),
    ).toEqual({
      deleted: [],
      errors: [{ key: 'a b', code: 'AccessDenied', message: 'no' }],
    });
  });
});

describe('malformed and hostile bodies', () => {
  it.each([
    ['truncated', INFO.slice(0, 120)],
    ['mismatched tags', '<LiveChannelStat><Status>Idle</Sta></LiveChannelStat>'],
    ['not XML', 'Service Unavailable'],
    ['empty', ''],
    ['wrong root', STAT_IDLE],
  ])('%s → XmlShapeError', (_label, xml) => {
    expect(() => parseLiveChannelConfiguration(xml)).toThrow(XmlShapeError);
  });

  it.each([
    ['bad boolean', LIST_RESULT.replace('<IsTruncated>true', '<IsTruncated>yes')],
    ['bad time', LIST_RESULT.replace('2016-07-30T01:54:21.000Z', 'yesterday')],
    ['truncated without NextMarker', LIST_RESULT.replace('<NextMarker>channel-0</NextMarker>', '')],
    ['bad status', LIST_RESULT.replace('<Status>disabled', '<Status>off')],
  ])('%s → XmlShapeError', (_label, xml) => {
    expect(() => parseListLiveChannelResult(xml)).toThrow(XmlShapeError);
  });

  it('rejects a non-integer FragDuration and a bad percent-encoding', () => {
    expect(() => parseLiveChannelConfiguration(INFO.replace('<FragDuration>2', '<FragDuration>2.5'))).toThrow(
      XmlShapeError,
    );
    expect(() => parseListBucketResult(LIST_BUCKET.replace('<Key>a/b</Key>', '<Key>%E4%B8</Key>'))).toThrow(
      XmlShapeError,
    );
  });

  it('decodes predefined entities and character references; refuses DOCTYPE entities and impossible code points', () => {
    const body = (description: string) =>
      `<LiveChannelConfiguration><Description>${description}</Description><Status>enabled</Status><Target><Type>HLS</Type><FragDuration>5</FragDuration><FragCount>3</FragCount><PlaylistName>p.m3u8</PlaylistName></Target></LiveChannelConfiguration>`;
    expect(
      parseLiveChannelConfiguration(`${DECL}${body('a &amp; b &lt;c&gt; &#x4E2D;&#65; &boom;')}`).description,
    ).toBe('a & b <c> 中A &boom;');
    expect(() =>
      parseLiveChannelConfiguration(`${DECL}<!DOCTYPE x [<!ENTITY boom "EXPANDED">]>${body('&boom;')}`),
    ).toThrow(/DOCTYPE/);
    expect(() => parseLiveChannelConfiguration(`${DECL}${body('&#x110000;')}`)).toThrow(/character reference/);
  });
});

describe('request bodies', () => {
  const plain = new XMLParser({ parseTagValue: false });

  it('LiveChannelConfiguration with defaults left to OSS', () => {
    const xml = buildLiveChannelConfiguration({});
    expect(xml.startsWith(DECL)).toBe(true);
    expect(plain.parse(xml).LiveChannelConfiguration).toEqual({ Status: 'enabled', Target: { Type: 'HLS' } });
  });

  it('LiveChannelConfiguration with everything, escaped', () => {
    const xml = buildLiveChannelConfiguration({
      description: 'a & <b>',
      status: 'disabled',
      target: { fragDuration: 2, fragCount: 4, playlistName: 'live.m3u8' },
      snapshot: { roleName: 'role', destBucket: 'dest', notifyTopic: 'topic', interval: 1 },
    });
    expect(xml).toContain('<Description>a &amp; &lt;b&gt;</Description>');
    // Our own parser round-trips what we build.
    expect(parseLiveChannelConfiguration(xml)).toEqual({
      description: 'a & <b>',
      status: 'disabled',
      target: { type: 'HLS', fragDuration: 2, fragCount: 4, playlistName: 'live.m3u8' },
      snapshot: { roleName: 'role', destBucket: 'dest', notifyTopic: 'topic', interval: 1 },
    });
  });

  it('Delete', () => {
    const xml = buildDeleteRequest(['a.ts', 'b & c.ts'], true);
    expect(xml).toContain('<Key>b &amp; c.ts</Key>');
    expect(plain.parse(xml).Delete).toEqual({ Quiet: 'true', Object: [{ Key: 'a.ts' }, { Key: 'b & c.ts' }] });
  });
});
