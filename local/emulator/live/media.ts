/**
 * The media the simulated publisher "sends": one GOP of H.264 and a run of AAC frames of a
 * steady tone (local/emulator/fixtures; its README says how they were made), muxed into MPEG-TS
 * fragments of any length (../mpegts.ts), and one JPG for snapshots. Both as small as honest media
 * gets (5 fps colour bars, 8 kbit/s audio: about 3.7 kB of MPEG-TS per second), since the storm
 * and the bench write days of fragments. MEDIA_FORMAT is the
 * one description of that media: the muxer times frames by it, GetLiveChannelStat reports it,
 * loading checks the fixtures against what it can read of them, and a test checks the rest
 * with ffprobe.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createFragmentMuxer, TS_HZ, type FragmentMuxer } from '../mpegts';

const FIXTURES = join('local', 'emulator', 'fixtures');
const VIDEO_FILE = 'video-gop.h264';
const AUDIO_FILE = 'tone.aac';
const SNAPSHOT_FILE = 'snapshot.jpg';

export const MEDIA_FORMAT = {
  video: { codec: 'H264', width: 320, height: 180, frameRate: 5, gopFrames: 5 },
  audio: { codec: 'AAC', sampleRate: 8_000, samplesPerFrame: 1024 },
} as const;

/** ADTS sampling_frequency_index of MEDIA_FORMAT.audio.sampleRate. */
const ADTS_8000 = 11;

export interface Media {
  muxer: FragmentMuxer;
  /** Elementary-stream bytes per second, as a sender's bitrate (GetLiveChannelStat Bandwidth). */
  videoBytesPerSecond: number;
  audioBytesPerSecond: number;
  snapshot: Buffer;
}

/**
 * Finds the fixtures by walking up to the project root, from this module's directory (run from
 * source, or bundled into dist/cli.js) or else from the working directory.
 */
function findFixturesDir(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    for (let dir = start; dir; dir = dirname(dir) === dir ? undefined : dirname(dir)) {
      const candidate = join(dir, FIXTURES);
      if (existsSync(join(candidate, SNAPSHOT_FILE))) return candidate;
    }
  }
  throw new Error(`LiveChannel media fixtures not found: no ${FIXTURES} above ${starts.filter(Boolean).join(' or ')}`);
}

/** Annex B access units, each starting at its access unit delimiter (NAL type 9). */
function splitAccessUnits(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 4 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1 && (stream[i + 3]! & 0x1f) === 9) {
      starts.push(i > 0 && stream[i - 1] === 0 ? i - 1 : i);
    }
  }
  return starts.map((s, k) => stream.subarray(s, starts[k + 1] ?? stream.length));
}

function isIdr(accessUnit: Buffer): boolean {
  for (let i = 0; i + 3 < accessUnit.length; i++) {
    if (accessUnit[i] === 0 && accessUnit[i + 1] === 0 && accessUnit[i + 2] === 1 && (accessUnit[i + 3]! & 0x1f) === 5)
      return true;
  }
  return false;
}

function splitAdtsFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < stream.length;) {
    if (stream[at] !== 0xff || (stream[at + 1]! & 0xf0) !== 0xf0)
      throw new Error(`${AUDIO_FILE}: no ADTS sync word at byte ${at}`);
    if (((stream[at + 2]! >> 2) & 0x0f) !== ADTS_8000)
      throw new Error(`${AUDIO_FILE}: not ${MEDIA_FORMAT.audio.sampleRate} Hz`);
    const length = ((stream[at + 3]! & 0x03) << 11) | (stream[at + 4]! << 3) | (stream[at + 5]! >> 5);
    frames.push(stream.subarray(at, at + length));
    at += length;
  }
  return frames;
}

let loaded: Media | undefined;

export function loadMedia(): Media {
  if (!loaded) {
    const dir = findFixturesDir();
    const video = splitAccessUnits(readFileSync(join(dir, VIDEO_FILE)));
    const { gopFrames, frameRate } = MEDIA_FORMAT.video;
    if (video.length !== gopFrames || !isIdr(video[0]!) || video.slice(1).some(isIdr)) {
      throw new Error(
        `${VIDEO_FILE}: expected one GOP of ${gopFrames} access units starting with the only IDR, found ${video.length}`,
      );
    }
    const audio = splitAdtsFrames(readFileSync(join(dir, AUDIO_FILE)));
    const { sampleRate, samplesPerFrame } = MEDIA_FORMAT.audio;
    const sum = (frames: Buffer[]) => frames.reduce((n, f) => n + f.length, 0);
    loaded = {
      muxer: createFragmentMuxer({
        video,
        audio,
        frameTicks: TS_HZ / frameRate,
        audioFrameTicks: (TS_HZ * samplesPerFrame) / sampleRate,
      }),
      videoBytesPerSecond: Math.round((sum(video) * frameRate) / video.length),
      audioBytesPerSecond: Math.round((sum(audio) * sampleRate) / samplesPerFrame / audio.length),
      snapshot: readFileSync(join(dir, SNAPSHOT_FILE)),
    };
  }
  return loaded;
}
