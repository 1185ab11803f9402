/**
 * RTMP publishers (reference §12): simulated ones here, and the real encoders of the RTMP port
 * (local/emulator/rtmp), which connect through `connect` and write through the same code. A
 * simulated push writes what OSS writes while a stream is live, on the cadence of the emulator
 * clock: a .ts fragment under `<channel>/` every
 * FragDuration seconds, the live playlist rewritten after each one, and (when configured) a
 * snapshot JPG plus a topic message every Interval seconds. Push state is in memory only: a
 * simulated publisher does not survive an emulator restart, its written objects and the
 * channel's history do.
 *
 * Fragments are honest media: a fragment of d seconds holds d seconds of H.264 + AAC (media.ts)
 * and its EXTINF says d. UNCONFIRMED how OSS timestamps a reconnect (an encoder restarts its
 * RTMP timestamps at 0); the emulator keeps ONE media timeline per channel: every fragment,
 * of this push or a later one, continues the PTS and continuity counters where the channel's
 * previous fragment ended. So any VOD playlist (a run of consecutive fragments) is one
 * continuous stream that `ffmpeg -c copy` reads without a timestamp jump, and no
 * #EXT-X-DISCONTINUITY is needed.
 */
import { OssErrorResponse, type EmuContext, type IngestControl, type PushInfo } from '../types';
import type { SnapshotConfig } from './config';
import { validateChannelName, validatePlaylistName } from './config';
import { channelStillLive, liveChannelDisabled, noSuchLiveChannel } from './errors';
import { loadMedia, MEDIA_FORMAT } from './media';
import { TIMELINE_START, type TsTimeline } from '../mpegts';
import { PLAYLIST_CONTENT_TYPE, renderPlaylist, type PlaylistSegment } from './playlist';
import { withBucketHost } from './ingest-host';
import { verifyRtmpUrl } from './rtmp-url';
import { HISTORY_LIMIT, type ChannelStore } from './store';

/** After PutLiveChannelStatus(disabled) OSS drops a connected publisher "about 10 s" later (§5). */
export const DISABLE_DROP_DELAY_MS = 10_000;

/**
 * A disconnect flushes the fragment in progress only if it holds at least one full GOP of the
 * fixture media (1 s); a shorter tail has no complete picture group to store.
 */
const MIN_FINAL_FRAGMENT_MS = (MEDIA_FORMAT.video.gopFrames / MEDIA_FORMAT.video.frameRate) * 1000;

const TS_CONTENT_TYPE = 'video/MP2T';
const SNAPSHOT_CONTENT_TYPE = 'image/jpeg';

/** The event name of the emulator's snapshot notification (format: docs/emulator-livechannel.md). */
export const SNAPSHOT_EVENT = 'LiveChannelSnapshot';

export interface SnapshotMessage {
  event: typeof SNAPSHOT_EVENT;
  bucket: string;
  channel: string;
  destBucket: string;
  object: string;
  /** ISO 8601 UTC with milliseconds, like every LiveChannel timestamp. */
  time: string;
}

/** A push as the admin API shows it: PushInfo plus what went wrong, if anything. */
export interface LivePushInfo extends PushInfo {
  /** A simulated publisher (fixture media on the emulator clock) or a real RTMP encoder. */
  encoder: 'simulated' | 'rtmp';
  /** When the push will be stopped: its requested duration ran out. */
  stopAt?: number;
  disabledDropAt?: number;
  /** Set once the publisher has disconnected. */
  endTime?: number;
  snapshotsWritten: number;
  /** Snapshots not taken, e.g. because DestBucket is not a bucket of this emulator. */
  snapshotsSkipped: number;
  lastProblem?: string;
  /** GetLiveChannelStat figures of a real RTMP publisher, once it has said or sent them. */
  video?: VideoStat;
  audio?: AudioStat;
}

export interface VideoStat {
  width: number;
  height: number;
  frameRate: number;
  /** Bytes/s over the last stored fragment; 0 until one is stored (see operations.ts). */
  bandwidth: number;
  codec: string;
}

export interface AudioStat {
  sampleRate: number;
  bandwidth: number;
  codec: string;
}

/**
 * What a real RTMP publisher (local/emulator/rtmp) writes through: the same fragment, playlist,
 * snapshot and history code as the simulated publisher, fed with media instead of fixtures.
 */
export interface LiveOutput {
  readonly fragDuration: number;
  readonly snapshotInterval: number | undefined;
  /** Stores a finished fragment and rewrites the live playlist; resolves once both are written. */
  fragment(f: { body: Buffer; startMs: number; durationS: number }): Promise<void>;
  snapshot(jpeg: Buffer, atMs: number): Promise<void>;
  /** A snapshot that could not be taken (e.g. no ffmpeg to decode the frame). */
  snapshotSkipped(reason: string): void;
  stats(video: VideoStat | undefined, audio: AudioStat | undefined): void;
  /** The publisher went away: ends the push like ingest.stop. */
  stop(): Promise<void>;
}

/** A real publisher's side of a push: `finish` stores its last fragment and disconnects it. */
export interface LiveSource {
  finish(): Promise<void>;
}

interface Session {
  info: LivePushInfo;
  fragDuration: number;
  fragCount: number;
  snapshot?: SnapshotConfig;
  /** Start of the fragment being recorded. */
  fragmentStartMs: number;
  /** Fragments of this session, counted for the live playlist's MEDIA-SEQUENCE. */
  sequence: number;
  window: PlaylistSegment[];
  /** Cancels of the pending clock timers, one per kind (a rescheduled timer replaces its entry). */
  timers: Map<'fragment' | 'snapshot' | 'stop' | 'drop', () => void>;
  /** Storage writes run one after another in clock order. */
  writes: Promise<void>;
  stopping?: Promise<void>;
  /** A real RTMP publisher; simulated pushes have none. */
  source?: LiveSource;
}

/** Ended pushes kept for the admin API, so a watcher can see how its push finished. */
const RECENTLY_ENDED_LIMIT = 20;

/** Fragment object names: 13 digits, unique and increasing per channel (see nextFragmentNumber). */
function fragmentName(n: number): string {
  return `${String(n).padStart(13, '0')}.ts`;
}

function sessionKey(bucket: string, channel: string): string {
  return `${bucket}\n${channel}`;
}

export class Ingest implements IngestControl {
  private sessions = new Map<string, Session>();
  private ended: LivePushInfo[] = [];
  /** Remote ports handed to publishers that do not name their address, like an OS would. */
  private nextPort = 50_000;

  constructor(
    private ctx: EmuContext,
    private store: ChannelStore,
  ) {}

  /** `durationSeconds` (emulator time) stops the push by itself, exactly on the clock. */
  async start(opts: {
    bucket: string;
    channel: string;
    signedUrl?: string;
    playlistName?: string;
    remoteAddr?: string;
    durationSeconds?: number;
  }): Promise<LivePushInfo> {
    const session = await this.open({ ...opts, encoder: 'simulated' });
    const { bucket, channel, connectedTime: now } = session.info;
    this.scheduleFragment(session);
    if (opts.durationSeconds !== undefined) {
      const stopAt = now + Math.round(opts.durationSeconds * 1000);
      session.info.stopAt = stopAt;
      session.timers.set(
        'stop',
        this.ctx.clock.at(stopAt, () => void this.stop({ bucket, channel })),
      );
    }
    if (session.snapshot) this.scheduleSnapshot(session, now + session.snapshot.interval * 1000);
    return { ...session.info };
  }

  /**
   * A real RTMP publisher connects: the same checks as a simulated push (signed URL, channel,
   * status, one publisher), then the publisher writes through the LiveOutput.
   */
  async connect(opts: {
    bucket: string;
    channel: string;
    signedUrl: string;
    remoteAddr: string;
    source: LiveSource;
  }): Promise<LiveOutput> {
    const session = await this.open({ ...opts, encoder: 'rtmp' });
    session.source = opts.source;
    const { bucket, channel } = session.info;
    return {
      fragDuration: session.fragDuration,
      snapshotInterval: session.snapshot?.interval,
      fragment: ({ body, startMs, durationS }) =>
        this.enqueue(session, () =>
          this.writeFragment(session, {
            startMs,
            durationS,
            writtenMs: this.ctx.clock.now(),
            render: () => ({ body }),
          }),
        ),
      snapshot: async (jpeg, atMs) => {
        const snapshot = session.snapshot;
        if (snapshot) await this.enqueue(session, () => this.takeSnapshot(session, snapshot, atMs, jpeg));
      },
      snapshotSkipped: (reason) => {
        session.info.snapshotsSkipped++;
        session.info.lastProblem = `snapshot skipped: ${reason}`;
      },
      stats: (video, audio) => {
        session.info.video = video;
        session.info.audio = audio;
      },
      stop: async () => {
        await this.stop({ bucket, channel });
      },
    };
  }

  /** A publish URL on an IP host (the emulator's RTMP port) names the first bucket: see ingest-host.ts. */
  private bucketHosted(signedUrl: string): string {
    let url: URL;
    try {
      url = new URL(signedUrl);
    } catch {
      return signedUrl; // the verifier names what is wrong
    }
    return url.protocol === 'rtmp:' ? withBucketHost(url, [...this.ctx.buckets]) : signedUrl;
  }

  private async open(opts: {
    bucket: string;
    channel: string;
    encoder: LivePushInfo['encoder'];
    signedUrl?: string;
    playlistName?: string;
    remoteAddr?: string;
  }): Promise<Session> {
    const { bucket, channel } = opts;
    validateChannelName(channel);
    if (!this.ctx.buckets.has(bucket))
      throw new OssErrorResponse(404, 'NoSuchBucket', 'The specified bucket does not exist.', {
        BucketName: bucket,
        EC: '0015-00000101',
      });
    const urlParams =
      opts.signedUrl === undefined
        ? undefined
        : verifyRtmpUrl(this.bucketHosted(opts.signedUrl), bucket, channel, this.ctx);
    const record = await this.store.get(bucket, channel);
    if (!record) throw noSuchLiveChannel();
    if (record.config.status === 'disabled') throw liveChannelDisabled();
    // The URL's playlistName is what OSS reads; the option is for pushes without a URL.
    const playlistName = urlParams?.get('playlistName') ?? opts.playlistName ?? record.config.playlistName;
    validatePlaylistName(playlistName);
    const key = sessionKey(bucket, channel);
    // One publisher per channel (§12.1); checked after the last await so two starts cannot both pass.
    if (this.sessions.has(key)) throw channelStillLive();

    const now = this.ctx.clock.now();
    const session: Session = {
      info: {
        bucket,
        channel,
        encoder: opts.encoder,
        playlistName,
        connectedTime: now,
        remoteAddr: opts.remoteAddr ?? `127.0.0.1:${this.nextPort++}`,
        fragmentsWritten: 0,
        snapshotsWritten: 0,
        snapshotsSkipped: 0,
      },
      fragDuration: record.config.fragDuration,
      fragCount: record.config.fragCount,
      snapshot: record.config.snapshot,
      fragmentStartMs: now,
      sequence: 0,
      window: [],
      timers: new Map(),
      writes: Promise.resolve(),
    };
    this.sessions.set(key, session);
    return session;
  }

  /** Disconnects the publisher and answers the push as it ended; a channel nobody pushes to: undefined. */
  async stop(opts: { bucket: string; channel: string }): Promise<LivePushInfo | undefined> {
    const session = this.sessions.get(sessionKey(opts.bucket, opts.channel));
    if (!session) return undefined;
    session.stopping ??= this.disconnect(session);
    await session.stopping;
    return { ...session.info };
  }

  /**
   * Pushes not yet ended, disconnecting ones included: a push leaves this list in the same step
   * that puts it in recentlyEnded(), so a watcher always finds it in one of the two.
   */
  active(): LivePushInfo[] {
    return [...this.sessions.values()].map((s) => ({ ...s.info }));
  }

  /** The last pushes that ended, oldest first. */
  recentlyEnded(): LivePushInfo[] {
    return this.ended.map((p) => ({ ...p }));
  }

  /** The connected push of a channel, if any (GetLiveChannelStat). */
  push(bucket: string, channel: string): LivePushInfo | undefined {
    const session = this.sessions.get(sessionKey(bucket, channel));
    return session && !session.stopping ? { ...session.info } : undefined;
  }

  /** Whether a publisher holds the channel (still connected, or disconnecting). */
  isLive(bucket: string, channel: string): boolean {
    return this.sessions.has(sessionKey(bucket, channel));
  }

  /** PutLiveChannelStatus(disabled) on a live channel: the publisher is dropped 10 s later. */
  channelDisabled(bucket: string, channel: string): void {
    const session = this.sessions.get(sessionKey(bucket, channel));
    if (!session || session.stopping || session.info.disabledDropAt !== undefined) return;
    const dropAt = this.ctx.clock.now() + DISABLE_DROP_DELAY_MS;
    session.info.disabledDropAt = dropAt;
    session.timers.set(
      'drop',
      this.ctx.clock.at(dropAt, () => void this.stop({ bucket, channel })),
    );
  }

  /** Disconnects every publisher (recording their history) and waits for their writes. */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.stop(s.info)));
  }

  private enqueue(session: Session, write: () => Promise<void>): Promise<void> {
    session.writes = session.writes.then(write).catch((err: unknown) => {
      session.info.lastProblem = err instanceof Error ? err.message : String(err);
    });
    return session.writes;
  }

  private scheduleFragment(session: Session): void {
    const endMs = session.fragmentStartMs + session.fragDuration * 1000;
    session.timers.set(
      'fragment',
      this.ctx.clock.at(endMs, () => {
        const startMs = session.fragmentStartMs;
        session.fragmentStartMs = endMs;
        this.scheduleFragment(session);
        void this.enqueue(session, () => this.simulatedFragment(session, startMs, endMs));
      }),
    );
  }

  private simulatedFragment(session: Session, startMs: number, endMs: number): Promise<void> {
    const media = loadMedia();
    // Whole frames of the span; every fragment but a disconnect's tail is whole GOPs.
    const frames = Math.floor(((endMs - startMs) * MEDIA_FORMAT.video.frameRate) / 1000);
    return this.writeFragment(session, {
      startMs,
      // EXTINF is the media's duration: whole frames, equal to FragDuration but for the tail.
      durationS: frames / MEDIA_FORMAT.video.frameRate,
      writtenMs: endMs,
      // The fragment continues the channel's media timeline where its last fragment ended.
      render: (timeline) => {
        const fragment = media.muxer.fragment(timeline ?? TIMELINE_START, frames);
        return { body: fragment.body, timeline: fragment.next };
      },
    });
  }

  /**
   * `startMs` indexes the fragment for VOD ranges; `writtenMs` is its objects' LastModified.
   * `render` makes the body from the channel's stored media timeline (simulated pushes continue
   * it; a real push brings its own body and timestamps and leaves the timeline alone).
   */
  private async writeFragment(
    session: Session,
    f: {
      startMs: number;
      durationS: number;
      writtenMs: number;
      render: (timeline: TsTimeline | undefined) => { body: Buffer; timeline?: TsTimeline };
    },
  ): Promise<void> {
    const { bucket, channel, playlistName } = session.info;
    const { startMs, durationS, writtenMs } = f;
    const { number, body } = await this.store.modify(bucket, channel, (record) => {
      if (!record) throw noSuchLiveChannel();
      const rendered = f.render(record.timeline);
      const next = {
        ...record,
        nextFragmentNumber: record.nextFragmentNumber + 1,
        timeline: rendered.timeline ?? record.timeline,
      };
      return { record: next, result: { number: record.nextFragmentNumber, body: rendered.body } };
    });
    const name = fragmentName(number);
    const key = `${channel}/${name}`;
    await this.ctx.objects.put(bucket, key, body, { contentType: TS_CONTENT_TYPE }, writtenMs);
    await this.store.appendFragment(bucket, channel, { key, startMs, durationS });

    session.sequence++;
    session.window.push({ uri: name, durationS });
    if (session.window.length > session.fragCount) session.window.shift();
    // The live playlist is a sliding window of FragCount fragments, rewritten after every one
    // (§12.3); MEDIA-SEQUENCE counts from the session's first fragment. UNCONFIRMED: exact text.
    const text = renderPlaylist({
      mediaSequence: session.sequence - session.window.length,
      segments: session.window,
      ended: false,
    });
    await this.ctx.objects.put(
      bucket,
      `${channel}/${playlistName}`,
      Buffer.from(text),
      { contentType: PLAYLIST_CONTENT_TYPE },
      writtenMs,
    );
    session.info.fragmentsWritten++;
  }

  private scheduleSnapshot(session: Session, atMs: number): void {
    const snapshot = session.snapshot;
    if (!snapshot) return;
    session.timers.set(
      'snapshot',
      this.ctx.clock.at(atMs, () => {
        this.scheduleSnapshot(session, atMs + snapshot.interval * 1000);
        void this.enqueue(session, () => this.takeSnapshot(session, snapshot, atMs));
      }),
    );
  }

  private async takeSnapshot(
    session: Session,
    snapshot: SnapshotConfig,
    atMs: number,
    jpeg = loadMedia().snapshot,
  ): Promise<void> {
    const { bucket, channel } = session.info;
    if (!this.ctx.buckets.has(snapshot.destBucket)) {
      // OSS would fail to write with the role; nothing is written and nothing is published.
      session.info.snapshotsSkipped++;
      session.info.lastProblem = `snapshot skipped: DestBucket ${snapshot.destBucket} is not a bucket of this emulator`;
      return;
    }
    // UNCONFIRMED (§12.2, §16 item 1): snapshot key naming; ours is `<channel>/<13-digit ms>.jpg`.
    const object = `${channel}/${String(atMs).padStart(13, '0')}.jpg`;
    await this.ctx.objects.put(snapshot.destBucket, object, jpeg, { contentType: SNAPSHOT_CONTENT_TYPE }, atMs);
    const message: SnapshotMessage = {
      event: SNAPSHOT_EVENT,
      bucket,
      channel,
      destBucket: snapshot.destBucket,
      object,
      time: new Date(atMs).toISOString(),
    };
    await this.ctx.topics.publish(snapshot.notifyTopic, JSON.stringify(message));
    session.info.snapshotsWritten++;
  }

  private async disconnect(session: Session): Promise<void> {
    for (const cancel of session.timers.values()) cancel();
    const { bucket, channel, connectedTime, remoteAddr } = session.info;
    // The fragment being recorded is stored when the publisher goes away (a VOD of the whole
    // session needs its tail): a real publisher stores what it has, a simulated one its
    // fragment unless it is shorter than one GOP.
    if (session.source) await session.source.finish();
    const endMs = this.ctx.clock.now();
    const startMs = session.fragmentStartMs;
    if (!session.source && endMs - startMs >= MIN_FINAL_FRAGMENT_MS)
      await this.enqueue(session, () => this.simulatedFragment(session, startMs, endMs));
    await this.enqueue(session, () =>
      this.store.modify(bucket, channel, (record) => {
        if (!record) return { result: undefined };
        const history = [...record.history, { startMs: connectedTime, endMs, remoteAddr }].slice(-HISTORY_LIMIT);
        return { record: { ...record, history }, result: undefined };
      }),
    );
    session.info.endTime = endMs;
    // Both in one synchronous step (see active()).
    this.ended = [...this.ended, { ...session.info }].slice(-RECENTLY_ENDED_LIMIT);
    this.sessions.delete(sessionKey(bucket, channel));
  }
}
