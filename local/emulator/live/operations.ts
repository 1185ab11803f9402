/**
 * The LiveChannel operations (reference §2–§10). Each decides from method, key and
 * sub-resources alone; the server authenticates, resolves the bucket and decodes the key
 * (`%2F` included) before calling them.
 */
import { createHash } from 'node:crypto';
import { verifyContentMd5 } from '../ops/common';
import { uriEncode } from '../signature';
import type { EmuContext, EmuRequest, EmuResponse, Operation } from '../types';
import { parseChannelConfig, validateChannelName, validatePlaylistName, type ChannelConfig } from './config';
import { channelStillLive, invalidArgument, liveChannelDisabled, noSuchLiveChannel } from './errors';
import type { Ingest } from './ingest';
import { loadMedia, MEDIA_FORMAT } from './media';
import { PLAYLIST_CONTENT_TYPE, renderPlaylist } from './playlist';
import type { ChannelRecord, ChannelStore } from './store';
import { isoTime, xmlResponse } from './xml';

const MAX_VOD_SPAN_S = 86_400;
const DEFAULT_MAX_KEYS = 100;

/**
 * GetLiveChannelStat figures while Live (§7): those of the media the simulated publisher sends
 * (media.ts). Bandwidth is the elementary stream's bytes/s (UNCONFIRMED unit, §16 item 5: the
 * captured samples fit B/s), 0 until the first fragment has been stored, as OSS reports right
 * after a publisher connects.
 */
/** The simulated push's figures, from its media (a real RTMP publisher's are measured: rtmp/publish.ts). */
function liveStat(sending: boolean): { Video: Record<string, unknown>; Audio: Record<string, unknown> } {
  const { video, audio } = MEDIA_FORMAT;
  const media = loadMedia();
  return {
    Video: {
      Width: video.width,
      Height: video.height,
      FrameRate: video.frameRate,
      Bandwidth: sending ? media.videoBytesPerSecond : 0,
      Codec: video.codec,
    },
    Audio: { Bandwidth: sending ? media.audioBytesPerSecond : 0, SampleRate: audio.sampleRate, Codec: audio.codec },
  };
}

export interface LiveOperationDeps {
  store: ChannelStore;
  ingest: Ingest;
  /**
   * PostVodPlaylist on a disabled channel answers 409 LiveChannelDisabled instead of building the
   * playlist. Whether OSS does is UNCONFIRMED (reference §4, §16 item 3); off by default, the
   * strict emulator lets tests prove nothing is lost if it does.
   */
  refuseVodWhenDisabled?: boolean;
}

/**
 * PublishUrl `rtmp://<bucket>.<host>/live/<channel>` and PlayUrl `http://<bucket>.<host>/<channel>/<playlist>`
 * from the request's Host (§2). A path-style request (Host without the bucket, e.g. the emulator
 * on 127.0.0.1) gets a PlayUrl in path style, so it can be fetched, and a PublishUrl that
 * still names the bucket in its host, which the simulated ingest reads.
 */
function channelUrls(
  req: EmuRequest,
  channel: string,
  playlistName: string,
): { PublishUrls: { Url: string }; PlayUrls: { Url: string } } {
  const virtualHosted = req.host.startsWith(`${req.bucket}.`);
  const bucketHost = virtualHosted ? req.host : `${req.bucket}.${req.host}`;
  const playBase = virtualHosted ? `http://${req.host}` : `http://${req.host}/${req.bucket}`;
  const encodedChannel = uriEncode(channel, true);
  return {
    PublishUrls: { Url: `rtmp://${bucketHost}/live/${encodedChannel}` },
    PlayUrls: { Url: `${playBase}/${encodedChannel}/${uriEncode(playlistName, true)}` },
  };
}

function configXml(config: ChannelConfig): Record<string, unknown> {
  return {
    Description: config.description,
    Status: config.status,
    Target: {
      Type: config.type,
      FragDuration: config.fragDuration,
      FragCount: config.fragCount,
      PlaylistName: config.playlistName,
    },
    // UNCONFIRMED (§6, §16 item 7): whether OSS echoes Snapshot; we do when it is set.
    ...(config.snapshot && {
      Snapshot: {
        RoleName: config.snapshot.roleName,
        DestBucket: config.snapshot.destBucket,
        NotifyTopic: config.snapshot.notifyTopic,
        Interval: config.snapshot.interval,
      },
    }),
  };
}

async function requireChannel(store: ChannelStore, bucket: string, name: string): Promise<ChannelRecord> {
  const record = await store.get(bucket, name);
  if (!record) throw noSuchLiveChannel();
  return record;
}

function isChannelRequest(req: EmuRequest, method: string): boolean {
  return req.method === method && req.key !== '' && req.query.has('live');
}

/**
 * startTime/endTime in Unix seconds (§9): end after start, span at most a day (the C++ SDK
 * allows exactly 86,400). Returns the inclusive range in ms.
 */
function vodRange(req: EmuRequest): { fromMs: number; toMs: number } {
  const start = req.query.get('startTime');
  const end = req.query.get('endTime');
  if (start === undefined || !/^\d{1,12}$/.test(start))
    throw invalidArgument('startTime must be a Unix time in seconds.', '0044-00000304');
  // The EC pages document 0044-00000304 for startTime only; endTime errors carry no EC.
  if (end === undefined || !/^\d{1,12}$/.test(end)) throw invalidArgument('endTime must be a Unix time in seconds.');
  const from = Number(start);
  const to = Number(end);
  if (to <= from) throw invalidArgument('endTime must be later than startTime.');
  if (to - from > MAX_VOD_SPAN_S) throw invalidArgument('endTime - startTime must not exceed one day (86400 s).');
  return { fromMs: from * 1000, toMs: to * 1000 };
}

/**
 * The VOD playlist of the fragments whose start lies in the range (§9–§10); no fragment is
 * 400 InvalidArgument with EC 0044-00000308 (observed for PostVodPlaylist; used for both).
 */
async function vodPlaylist(
  deps: LiveOperationDeps,
  req: EmuRequest,
  channel: string,
  opts: { store?: boolean } = {},
): Promise<string> {
  const { fromMs, toMs } = vodRange(req);
  const record = await requireChannel(deps.store, req.bucket, channel);
  if (opts.store && deps.refuseVodWhenDisabled && record.config.status === 'disabled') throw liveChannelDisabled();
  const fragments = await deps.store.fragmentsStartingBetween(req.bucket, channel, fromMs, toMs);
  if (fragments.length === 0)
    throw invalidArgument('No ts fragment of the live channel starts within the given time range.', '0044-00000308');
  const prefix = `${channel}/`;
  return renderPlaylist({
    mediaSequence: 0,
    segments: fragments.map((f) => ({ uri: f.key.slice(prefix.length), durationS: f.durationS })),
    ended: true,
  });
}

export function liveChannelOperations(deps: LiveOperationDeps): Operation[] {
  const { store, ingest } = deps;
  return [
    {
      name: 'ListLiveChannel',
      match: (req) => req.method === 'GET' && req.key === '' && req.query.has('live'),
      async handle(req) {
        const prefix = req.query.get('prefix') ?? '';
        if (Buffer.byteLength(prefix, 'utf8') > 1024)
          throw invalidArgument('prefix must be at most 1024 bytes.', '0044-00000102');
        const marker = req.query.get('marker') ?? '';
        // An empty `max-keys=` is taken as absent, like empty elements in request bodies.
        const maxKeysText = req.query.get('max-keys') || undefined;
        const maxKeys =
          maxKeysText === undefined ? DEFAULT_MAX_KEYS : /^\d{1,4}$/.test(maxKeysText) ? Number(maxKeysText) : NaN;
        if (!(maxKeys >= 1 && maxKeys <= 1000)) throw invalidArgument('max-keys must be an integer from 1 to 1000.');

        const { names: page, truncated } = await store.page(req.bucket, prefix, marker, maxKeys);
        const records = (await Promise.all(page.map((n) => store.get(req.bucket, n)))).filter(
          (r): r is ChannelRecord => r !== undefined,
        );
        return xmlResponse('ListLiveChannelResult', {
          Prefix: prefix,
          Marker: marker,
          MaxKeys: maxKeys,
          IsTruncated: String(truncated),
          // UNCONFIRMED (§3, §16 item 6): NextMarker is sent only when truncated.
          ...(truncated && { NextMarker: page[page.length - 1] }),
          LiveChannel: records.map((r) => ({
            Name: r.name,
            Description: r.config.description,
            Status: r.config.status,
            LastModified: isoTime(r.lastModified),
            ...channelUrls(req, r.name, r.config.playlistName),
          })),
        });
      },
    },
    {
      name: 'PutLiveChannelStatus',
      match: (req) => isChannelRequest(req, 'PUT') && req.query.has('status'),
      async handle(req, ctx) {
        validateChannelName(req.key);
        const status = req.query.get('status');
        if (status !== 'enabled' && status !== 'disabled')
          throw invalidArgument('status must be "enabled" or "disabled".', '0044-00000002');
        await store.modify(req.bucket, req.key, (record) => {
          if (!record) throw noSuchLiveChannel();
          return {
            record: { ...record, config: { ...record.config, status }, lastModified: ctx.clock.now() },
            result: undefined,
          };
        });
        if (status === 'disabled') ingest.channelDisabled(req.bucket, req.key);
        return { status: 200 };
      },
    },
    {
      name: 'PutLiveChannel',
      match: (req) => isChannelRequest(req, 'PUT') && !req.query.has('status'),
      async handle(req, ctx) {
        validateChannelName(req.key);
        // Content-MD5 is optional here as for PutObject (§2), and checked the same way when sent.
        verifyContentMd5(req, false);
        const config = parseChannelConfig(req.body);
        const now = ctx.clock.now();
        await store.modify(req.bucket, req.key, (current) => {
          // While a stream is pushed only PutLiveChannelStatus(disabled) is allowed (§2);
          // UNCONFIRMED: the error for a PutLiveChannel then.
          if (ingest.isLive(req.bucket, req.key)) throw channelStillLive();
          // Re-putting replaces the configuration; history and fragment numbering stay. A new
          // channel numbers its fragments from its creation time in ms, which stays above any
          // number a deleted predecessor of the same name used (it used fewer than one per ms).
          const record: ChannelRecord = current
            ? { ...current, config, lastModified: now }
            : { bucket: req.bucket, name: req.key, config, lastModified: now, history: [], nextFragmentNumber: now };
          return { record, result: undefined };
        });
        return xmlResponse('CreateLiveChannelResult', channelUrls(req, req.key, config.playlistName));
      },
    },
    {
      name: 'DeleteLiveChannel',
      match: (req) => isChannelRequest(req, 'DELETE'),
      async handle(req) {
        validateChannelName(req.key);
        await store.modify(req.bucket, req.key, (record) => {
          if (!record) throw noSuchLiveChannel();
          // UNCONFIRMED (§4, §16 item 3): 409 ChannelStillLive while a client pushes.
          if (ingest.isLive(req.bucket, req.key)) throw channelStillLive();
          // Only the channel goes; every object its pushes wrote stays (§4).
          return { record: null, result: undefined };
        });
        return { status: 204 };
      },
    },
    {
      name: 'GetLiveChannelStat',
      match: (req) => isChannelRequest(req, 'GET') && req.query.get('comp') === 'stat',
      async handle(req) {
        validateChannelName(req.key);
        const record = await requireChannel(store, req.bucket, req.key);
        // Disabled wins over a publisher that is still connected during its 10 s grace (§12.5).
        if (record.config.status === 'disabled') return xmlResponse('LiveChannelStat', { Status: 'Disabled' });
        const push = ingest.push(req.bucket, req.key);
        if (!push) return xmlResponse('LiveChannelStat', { Status: 'Idle' });
        const live = { Status: 'Live', ConnectedTime: isoTime(push.connectedTime), RemoteAddr: push.remoteAddr };
        if (push.encoder === 'rtmp') {
          // A real publisher's figures; Video/Audio stay absent until it has sent them (§7).
          const { video, audio } = push;
          return xmlResponse('LiveChannelStat', {
            ...live,
            ...(video && {
              Video: {
                Width: video.width,
                Height: video.height,
                FrameRate: video.frameRate,
                Bandwidth: video.bandwidth,
                Codec: video.codec,
              },
            }),
            ...(audio && { Audio: { Bandwidth: audio.bandwidth, SampleRate: audio.sampleRate, Codec: audio.codec } }),
          });
        }
        const sending = push.fragmentsWritten > 0;
        return xmlResponse('LiveChannelStat', {
          ...live,
          ...liveStat(sending),
        });
      },
    },
    {
      name: 'GetLiveChannelHistory',
      match: (req) => isChannelRequest(req, 'GET') && req.query.get('comp') === 'history',
      async handle(req) {
        validateChannelName(req.key);
        const record = await requireChannel(store, req.bucket, req.key);
        // Oldest first, finished sessions only. UNCONFIRMED (§8): an empty history is rendered
        // `<LiveChannelHistory></LiveChannelHistory>`; an open session is not listed.
        return xmlResponse('LiveChannelHistory', {
          LiveRecord: record.history.map((h) => ({
            StartTime: isoTime(h.startMs),
            EndTime: isoTime(h.endMs),
            RemoteAddr: h.remoteAddr,
          })),
        });
      },
    },
    {
      name: 'GetLiveChannelInfo',
      // Any other `comp` lands here too and is refused, rather than falling through to GetObject.
      match: (req) => isChannelRequest(req, 'GET'),
      async handle(req) {
        const comp = req.query.get('comp');
        if (comp !== undefined) throw invalidArgument(`comp=${comp} is not a LiveChannel sub-resource.`);
        validateChannelName(req.key);
        const record = await requireChannel(store, req.bucket, req.key);
        return xmlResponse('LiveChannelConfiguration', configXml(record.config));
      },
    },
    {
      name: 'PostVodPlaylist',
      match: (req) => req.method === 'POST' && req.key !== '' && req.query.has('vod'),
      async handle(req, ctx: EmuContext): Promise<EmuResponse> {
        const slash = req.key.indexOf('/');
        if (slash < 0) throw invalidArgument('PostVodPlaylist is POST /<ChannelName>/<PlaylistName>?vod.');
        const channel = req.key.slice(0, slash);
        const playlistName = req.key.slice(slash + 1);
        validateChannelName(channel);
        validatePlaylistName(playlistName);
        const text = await vodPlaylist(deps, req, channel, { store: true });
        // Stored at the request path, overwriting an object of that name (§9).
        const stored = await ctx.objects.put(
          req.bucket,
          `${channel}/${playlistName}`,
          Buffer.from(text),
          { contentType: PLAYLIST_CONTENT_TYPE },
          ctx.clock.now(),
        );
        return { status: 200, headers: { etag: `"${stored.etag}"` } };
      },
    },
    {
      name: 'GetVodPlaylist',
      match: (req) => req.method === 'GET' && req.key !== '' && req.query.has('vod'),
      async handle(req) {
        validateChannelName(req.key);
        const text = await vodPlaylist(deps, req, req.key);
        const etag = createHash('md5').update(text).digest('hex').toUpperCase();
        return { status: 200, headers: { 'content-type': PLAYLIST_CONTENT_TYPE, etag: `"${etag}"` }, body: text };
      },
    },
  ];
}
