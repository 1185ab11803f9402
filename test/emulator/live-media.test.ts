/**
 * The simulated publisher's fragments are honest media: each holds as much media as its
 * #EXTINF says, and the fragments of a channel (across reconnects too) form one stream with
 * continuous timestamps and continuity counters, so a VOD plays with `ffmpeg -c copy` without
 * a warning. The structural checks need nothing; the ffprobe/ffmpeg checks are skipped, with
 * a printed reason, where those tools are missing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { findFfmpeg, findFfprobe } from '../../local/emulator/rtmp/ffmpeg';
import { oss, parseXml } from './helpers';
import { BUCKET, T0, channelXml, makeLiveHarness } from './live-helpers';
import { quietEmulator } from './setup';

const run = promisify(execFile);
const FRAME_S = 1 / 5;
const ffmpeg = findFfmpeg();
const ffprobe = findFfprobe();
const missingTools = [!ffmpeg && 'ffmpeg (PATH or @ffmpeg-installer/ffmpeg)', !ffprobe && 'ffprobe (PATH)'].filter(
  Boolean,
);
if (missingTools.length)
  console.warn(`live-media: ${missingTools.join(' and ')} not found: skipping the ffprobe/ffmpeg media checks`);
const withFfmpeg = it.skipIf(missingTools.length > 0);

const FRAG2 = '<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>';

/** Per elementary stream (by PES stream id): PTS of each PES in order; per PID: the continuity breaks. */
function readTs(bodies: Buffer[]) {
  const pts = new Map<number, number[]>();
  const lastCc = new Map<number, number>();
  let ccBreaks = 0;
  for (const body of bodies) {
    expect(body.length % 188).toBe(0);
    for (let p = 0; p < body.length; p += 188) {
      expect(body[p]).toBe(0x47);
      const pid = ((body[p + 1]! & 0x1f) << 8) | body[p + 2]!;
      const pusi = (body[p + 1]! & 0x40) !== 0;
      const control = body[p + 3]! >> 4;
      const cc = body[p + 3]! & 0x0f;
      const previous = lastCc.get(pid);
      if (previous !== undefined && cc !== ((previous + 1) & 0x0f)) ccBreaks++;
      lastCc.set(pid, cc);
      const payload = p + 4 + (control & 0x2 ? body[p + 4]! + 1 : 0);
      if (pusi && body[payload] === 0 && body[payload + 1] === 0 && body[payload + 2] === 1) {
        const streamId = body[payload + 3]!;
        const t = payload + 9;
        const value =
          ((body[t]! >> 1) & 0x07) * 2 ** 30 +
          (body[t + 1]! << 22) +
          ((body[t + 2]! >> 1) << 15) +
          (body[t + 3]! << 7) +
          (body[t + 4]! >> 1);
        pts.set(streamId, [...(pts.get(streamId) ?? []), value]);
      }
    }
  }
  return { pts, ccBreaks };
}

const steps = (values: number[]) => [...new Set(values.slice(1).map((v, i) => v - values[i]!))];

describe('fragments of the simulated push', () => {
  it('hold exactly their EXTINF of media and continue one timeline across fragments and reconnects', async () => {
    const h = makeLiveHarness();
    expect((await h.call('PUT', 'c1', 'live', channelXml(FRAG2))).status).toBe(200);
    const t0 = h.clock.now();
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(5_500); // two 2 s fragments, then a 1.5 s tail at the disconnect: 7 whole frames
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(3_000);
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_000);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });

    const vod = await h.call(
      'GET',
      'c1',
      `vod&startTime=${Math.floor(t0 / 1000)}&endTime=${Math.floor(h.clock.now() / 1000)}`,
    );
    const playlist = HLS.parse(vod.body.toString()) as HLS.types.MediaPlaylist;
    expect(playlist.segments.map((s) => s.duration)).toEqual([2, 2, 1.4, 2, 2]);
    const bodies = await Promise.all(
      playlist.segments.map(async (s) => (await h.ctx.objects.get(BUCKET, `c1/${s.uri}`))!.body),
    );
    for (const [i, body] of bodies.entries()) {
      const video = readTs([body]).pts.get(0xe0)!;
      expect(video.length * FRAME_S, `fragment ${i}`).toBeCloseTo(playlist.segments[i]!.duration, 6);
    }
    const { pts, ccBreaks } = readTs(bodies);
    expect(ccBreaks).toBe(0);
    expect(steps(pts.get(0xe0)!)).toEqual([18_000]); // 5 fps in 90 kHz ticks, no jump anywhere
    expect(steps(pts.get(0xc0)!)).toEqual([11_520]); // 1024-sample AAC frames at 8 kHz
    expect(pts.get(0xe0)!.length * FRAME_S).toBeCloseTo(9.4, 6);
  });
});

async function probe(target: string) {
  const { stdout } = await run(ffprobe!.path, [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_type,codec_name,width,height,r_frame_rate,sample_rate',
    '-of',
    'json',
    target,
  ]);
  return JSON.parse(stdout) as { format: { duration: string }; streams: Record<string, string | number>[] };
}

describe('fragment media as ffprobe sees it', () => {
  withFfmpeg('lasts its EXTINF within one frame, and Stat reports its real format', async () => {
    const h = makeLiveHarness();
    expect((await h.call('PUT', 'c1', 'live', channelXml(FRAG2))).status).toBe(200);
    await h.service.ingest.start({ bucket: BUCKET, channel: 'c1' });
    await h.clock.advance(4_000);
    const stat = parseXml((await h.call('GET', 'c1', 'live&comp=stat')).body).LiveChannelStat;
    await h.clock.advance(1_700);
    await h.service.ingest.stop({ bucket: BUCKET, channel: 'c1' });
    const vod = await h.call(
      'GET',
      'c1',
      `vod&startTime=${Math.floor(T0 / 1000)}&endTime=${Math.ceil(h.clock.now() / 1000)}`,
    );
    const segments = (HLS.parse(vod.body.toString()) as HLS.types.MediaPlaylist).segments;
    expect(segments.map((s) => s.duration)).toEqual([2, 2, 1.6]);
    const dir = mkdtempSync(join(tmpdir(), 'livecycle-ts-'));
    try {
      for (const [i, segment] of segments.entries()) {
        const file = join(dir, `${i}.ts`);
        writeFileSync(file, (await h.ctx.objects.get(BUCKET, `c1/${segment.uri}`))!.body);
        const info = await probe(file);
        expect(Math.abs(Number(info.format.duration) - segment.duration), segment.uri).toBeLessThanOrEqual(FRAME_S);
        const video = info.streams.find((s) => s.codec_type === 'video')!;
        const audio = info.streams.find((s) => s.codec_type === 'audio')!;
        expect({
          Width: String(video.width),
          Height: String(video.height),
          FrameRate: String(video.r_frame_rate).replace('/1', ''),
          Codec: String(video.codec_name).toUpperCase(),
        }).toEqual({
          Width: stat.Video.Width,
          Height: stat.Video.Height,
          FrameRate: stat.Video.FrameRate,
          Codec: stat.Video.Codec,
        });
        expect({ SampleRate: String(audio.sample_rate), Codec: String(audio.codec_name).toUpperCase() }).toEqual({
          SampleRate: stat.Audio.SampleRate,
          Codec: stat.Audio.Codec,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a VOD of the emulator over HTTP', () => {
  let emu: Emulator;
  beforeAll(async () => {
    // Public-read, as `livecycle start --public-read`: ffmpeg fetches the segments the playlist names unsigned.
    emu = await quietEmulator({ publicReadBuckets: [BUCKET] });
  });
  afterAll(() => emu?.stop());

  withFfmpeg(
    'spanning a reconnect: media duration = EXTINF sum within one frame, and ffmpeg -c copy reads it without a warning',
    async () => {
      expect(
        (await oss(emu, { method: 'PUT', key: 'vod-ch', query: { live: '' }, body: channelXml(FRAG2) })).status,
      ).toBe(200);
      const t0 = emu.clock.now();
      for (const ms of [7_300, 6_000]) {
        await emu.ingest.start({ bucket: BUCKET, channel: 'vod-ch' });
        await emu.clock.advance(ms);
        await emu.ingest.stop({ bucket: BUCKET, channel: 'vod-ch' });
        await emu.clock.advance(2_000);
      }
      const query = {
        vod: '',
        startTime: String(Math.floor(t0 / 1000)),
        endTime: String(Math.ceil(emu.clock.now() / 1000)),
      };
      expect((await oss(emu, { method: 'POST', key: 'vod-ch/vod.m3u8', query })).status).toBe(200);
      const url = `${emu.url}/${BUCKET}/vod-ch/vod.m3u8`;
      const text = await (await fetch(url)).text();
      const extinfSum = (HLS.parse(text) as HLS.types.MediaPlaylist).segments.reduce((s, seg) => s + seg.duration, 0);
      expect(extinfSum).toBeCloseTo(7.2 + 6, 6);

      // The media's own extent (packets, not the playlist's EXTINF sum that ffprobe's format duration reports for HLS).
      const { stdout } = await run(ffprobe!.path, [
        '-v',
        'error',
        '-show_entries',
        'packet=pts_time,duration_time',
        '-of',
        'json',
        url,
      ]);
      const packets = (JSON.parse(stdout) as { packets: { pts_time: string; duration_time: string }[] }).packets.map(
        (p) => [Number(p.pts_time), Number(p.duration_time)] as const,
      );
      const start = Math.min(...packets.map(([pts]) => pts));
      const end = Math.max(...packets.map(([pts, duration]) => pts + duration));
      expect(Math.abs(end - start - extinfSum)).toBeLessThanOrEqual(FRAME_S);

      const copy = await run(ffmpeg!.path, [
        '-hide_banner',
        '-nostats',
        '-v',
        'warning',
        '-i',
        url,
        '-c',
        'copy',
        '-f',
        'null',
        '-',
      ]);
      expect(copy.stderr).not.toMatch(/non monoton|corrupt|discontinuity|error/i);
    },
  );
});
