/**
 * One accepted RTMP publish turned into what OSS writes (reference §12): FLV tags → H.264/AAC
 * access units → MPEG-TS, cut into fragments at the first key frame at or after FragDuration
 * of media, each stored through the Ingest's LiveOutput (fragment object, live playlist,
 * fragment index), plus a real JPEG snapshot of a key frame every Interval when the channel
 * has Snapshot. Timestamps run on across fragments (one muxer per push).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../../shared/clock';
import type { AudioStat, LiveOutput, LiveSource, VideoStat } from '../live/ingest';
import { decodeAmf0 } from './amf0';
import { MSG, type MediaSink, type RtmpMessage } from './connection';
import { findFfmpeg } from './ffmpeg';
import { FlvDepacketizer } from './flv';
import { TsMuxer, type VideoUnit } from '../mpegts';

/** Without a key frame OSS cuts anyway after max(2 × FragDuration, 60 s) of media (§12.3). */
export function forcedCutMs(fragDurationS: number): number {
  return Math.max(2 * fragDurationS, 60) * 1000;
}

/**
 * What a video frame does to the fragment being recorded: `skip` (nothing recorded yet and not
 * a key frame), `start` the first fragment, `cut` (store the fragment, this frame starts the
 * next) or `append`.
 */
export function cutDecision(
  fragmentStartDts: number | undefined,
  frame: { dts: number; keyframe: boolean },
  fragDurationS: number,
): 'skip' | 'start' | 'cut' | 'append' {
  if (fragmentStartDts === undefined) return frame.keyframe ? 'start' : 'skip';
  const elapsed = frame.dts - fragmentStartDts;
  if (frame.keyframe && elapsed >= fragDurationS * 1000) return 'cut';
  return elapsed >= forcedCutMs(fragDurationS) ? 'cut' : 'append';
}

/**
 * Decode times (dts) decide the cuts; durations are presentation times (pts), as a player and
 * ffprobe count them: a fragment lasts from its key frame's pts to the next fragment's, the
 * last one to the end of its last frame (video or audio).
 */
interface Fragment {
  startDts: number;
  startPts: number;
  /** Emulator clock when its first frame arrived: its place in the VOD time ranges. */
  startMs: number;
  lastVideoDts: number;
  videoFrameMs: number;
  /** End (pts + one frame) of the latest video and audio frame. */
  mediaEnd: number;
  videoBytes: number;
  audioBytes: number;
  videoFrames: number;
}

interface Metadata {
  width?: number;
  height?: number;
  frameRate?: number;
}

function numberField(obj: Record<string, unknown>, name: string): number | undefined {
  const v = obj[name];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export interface PublishHooks {
  /** Wall-clock ms from the frame that ended a fragment to the fragment being stored (bench). */
  onFragmentStored?(latenessMs: number): void;
}

export class RtmpPublish implements MediaSink, LiveSource {
  private output: LiveOutput | undefined;
  private depacketizer = new FlvDepacketizer();
  private muxer = new TsMuxer(() => this.depacketizer.hasAudioConfig);
  private current: Fragment | undefined;
  /** Presentation time of the push's first key frame: where the recording starts. */
  private firstPts: number | undefined;
  private metadata: Metadata = {};
  private video: VideoStat | undefined;
  private audio: AudioStat | undefined;
  private nextSnapshotDts: number | undefined;
  private snapshotInFlight: Promise<void> | undefined;
  private finished: Promise<void> | undefined;

  constructor(
    private clock: Clock,
    /** Closes the publisher's connection. */
    private drop: () => void,
    private hooks: PublishHooks = {},
  ) {}

  attach(output: LiveOutput): void {
    this.output = output;
  }

  message(msg: RtmpMessage): void {
    if (this.finished || !this.output) return;
    if (msg.type === MSG.VIDEO) {
      const parsed = this.depacketizer.video(msg.timestamp, msg.payload);
      if (parsed.kind === 'frame') this.videoFrame(parsed.unit);
    } else if (msg.type === MSG.AUDIO) {
      const parsed = this.depacketizer.audio(msg.timestamp, msg.payload);
      // Audio before the first key frame has no fragment to go in (as video before it).
      if (parsed.kind === 'frame' && this.current && parsed.unit.pts >= this.firstPts!) {
        this.muxer.audio(parsed.unit);
        this.current.audioBytes += parsed.unit.data.length;
        const end = parsed.unit.pts + 1_024_000 / (this.depacketizer.audioSampleRate ?? 44_100);
        this.current.mediaEnd = Math.max(this.current.mediaEnd, end);
      }
    } else if (msg.type === MSG.DATA_AMF0) {
      this.readMetadata(msg.payload);
    }
  }

  /** The publisher stopped or disconnected: the push ends as `ingest.stop` ends it. */
  end(): void {
    if (!this.finished) void this.output?.stop();
  }

  /** Called by the Ingest when the push ends: stores the fragment in progress, then disconnects. */
  finish(): Promise<void> {
    this.finished ??= (async () => {
      await this.snapshotInFlight;
      const fragment = this.current;
      this.current = undefined;
      if (fragment && fragment.videoFrames > 0) {
        await this.store(fragment, fragment.mediaEnd, performance.now());
      }
      this.drop();
    })();
    return this.finished;
  }

  private videoFrame(unit: VideoUnit): void {
    const output = this.output!;
    const decision = cutDecision(this.current?.startDts, unit, output.fragDuration);
    if (decision === 'skip') return;
    const pts = unit.dts + unit.cts;
    this.firstPts ??= pts;
    if (decision === 'cut') void this.store(this.current!, pts, performance.now());
    if (decision !== 'append') {
      this.current = {
        startDts: unit.dts,
        startPts: pts,
        startMs: this.clock.now(),
        lastVideoDts: unit.dts,
        videoFrameMs: 0,
        mediaEnd: pts,
        videoBytes: 0,
        audioBytes: 0,
        videoFrames: 0,
      };
      this.muxer.tables();
    }
    const fragment = this.current!;
    if (unit.dts > fragment.lastVideoDts) fragment.videoFrameMs = unit.dts - fragment.lastVideoDts;
    fragment.lastVideoDts = unit.dts;
    fragment.mediaEnd = Math.max(fragment.mediaEnd, pts + fragment.videoFrameMs);
    fragment.videoFrames++;
    fragment.videoBytes += unit.data.length;
    this.muxer.video(unit);
    if (!this.video) this.publishStats(undefined);
    if (unit.keyframe && output.snapshotInterval !== undefined)
      this.maybeSnapshot(unit, output.snapshotInterval * 1000);
  }

  private store(fragment: Fragment, endPts: number, cutAt: number): Promise<void> {
    const body = this.muxer.take();
    const durationS = Math.max(0, endPts - fragment.startPts) / 1000;
    this.publishStats({ ...fragment, durationS });
    return this.output!.fragment({ body, startMs: fragment.startMs, durationS }).then(() =>
      this.hooks.onFragmentStored?.(performance.now() - cutAt),
    );
  }

  /** Stat figures: the encoder's metadata, then measured over the last stored fragment. */
  private publishStats(last: (Fragment & { durationS: number }) | undefined): void {
    const seconds = last && last.durationS > 0 ? last.durationS : undefined;
    const measuredRate = seconds ? Math.round(last!.videoFrames / seconds) : undefined;
    this.video = {
      width: this.metadata.width ?? 0,
      height: this.metadata.height ?? 0,
      frameRate: measuredRate ?? Math.round(this.metadata.frameRate ?? 0),
      bandwidth: seconds ? Math.round(last!.videoBytes / seconds) : 0,
      codec: 'H264',
    };
    const sampleRate = this.depacketizer.audioSampleRate;
    this.audio =
      sampleRate === undefined
        ? undefined
        : { sampleRate, bandwidth: seconds ? Math.round(last!.audioBytes / seconds) : 0, codec: 'AAC' };
    this.output!.stats(this.video, this.audio);
  }

  private readMetadata(payload: Buffer): void {
    let values;
    try {
      values = decodeAmf0(payload);
    } catch {
      return; // metadata is optional; a malformed one is ignored like an absent one
    }
    const at = values.indexOf('onMetaData');
    const obj = at >= 0 ? values[at + 1] : undefined;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj) || obj instanceof Date) return;
    this.metadata = {
      width: numberField(obj, 'width'),
      height: numberField(obj, 'height'),
      frameRate: numberField(obj, 'framerate'),
    };
  }

  /** The first snapshot is one Interval of media after the first key frame, as OSS grabs key frames. */
  private maybeSnapshot(unit: VideoUnit, intervalMs: number): void {
    if (this.nextSnapshotDts === undefined) {
      this.nextSnapshotDts = unit.dts + intervalMs;
      return;
    }
    if (unit.dts < this.nextSnapshotDts) return;
    while (this.nextSnapshotDts <= unit.dts) this.nextSnapshotDts += intervalMs;
    const output = this.output!;
    if (this.snapshotInFlight) return output.snapshotSkipped('the previous snapshot is still being decoded');
    const ffmpeg = findFfmpeg();
    if (!ffmpeg)
      return output.snapshotSkipped(
        'no ffmpeg to decode the key frame (install ffmpeg, or run npm ci for @ffmpeg-installer/ffmpeg)',
      );
    const atMs = this.clock.now();
    // A stand-alone TS of this one key frame (with SPS/PPS), decoded to JPEG.
    const muxer = new TsMuxer(() => false);
    muxer.tables();
    muxer.video(unit);
    this.snapshotInFlight = decodeJpeg(ffmpeg.path, muxer.take())
      .then((jpeg) => output.snapshot(jpeg, atMs))
      .catch((err: unknown) => output.snapshotSkipped((err as Error).message))
      .finally(() => (this.snapshotInFlight = undefined));
  }
}

function decodeJpeg(ffmpeg: string, ts: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'mpegts',
        '-i',
        'pipe:0',
        '-frames:v',
        '1',
        '-c:v',
        'mjpeg',
        '-f',
        'image2pipe',
        'pipe:1',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else
        reject(
          new Error(`ffmpeg could not decode the key frame (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`),
        );
    });
    child.stdin.end(ts);
  });
}
