/**
 * Real RTMP ingest: ffmpeg publishes to the emulator's RTMP port with the publish URL the OSS
 * client signs, and the emulator writes what OSS writes. Needs ffmpeg and ffprobe (PATH, or
 * ffmpeg from @ffmpeg-installer/ffmpeg); without them the media tests are skipped with a printed
 * reason. The emulator clock is frozen: nothing here depends on how fast the machine is, only
 * on what the stream contains.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { installClock } from '../../shared/clock';
import { ConfigError, createOssClient, loadConfig } from '../../shared/config';
import { createPushCommand } from '../../local/commands/push';
import { findFfmpeg, findFfprobe } from '../../local/emulator/rtmp/ffmpeg';
import { testPatternArgs } from '../../local/commands/push-rtmp';
import { cutDecision } from '../../local/emulator/rtmp/publish';
import { ingestTarget } from '../../local/emulator/rtmp/server';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { signRtmpUrl } from '../../shared/oss/signer';
import type { TopicMessage } from '../../local/emulator/types';
import { quietEmulator } from './setup';

const BUCKETS = ['livecycle-demo', 'second-bucket'];

describe('RTMP publish target (pure)', () => {
  const req = (tcUrl: string, streamName: string, app = 'live') => ({ app, tcUrl, streamName });

  it('takes the bucket from the host label, or the first bucket on an IP or single-label host', () => {
    expect(ingestTarget(req('rtmp://second-bucket.example.com/live', 'cam?a=1'), BUCKETS)).toEqual({
      bucket: 'second-bucket',
      channel: 'cam',
      signedUrl: 'rtmp://second-bucket.example.com/live/cam?a=1',
    });
    for (const host of ['127.0.0.1:1935', 'localhost:1935', '[::1]:1935']) {
      const target = ingestTarget(req(`rtmp://${host}/live`, 'cam%20one?Expires=1'), BUCKETS);
      expect(target.bucket, host).toBe('livecycle-demo');
      expect(target.channel).toBe('cam one');
      expect(new URL(target.signedUrl).hostname.startsWith('livecycle-demo.')).toBe(true);
    }
  });

  it('refuses another app, an unknown bucket and an empty channel, naming what is wrong', () => {
    expect(() => ingestTarget(req('rtmp://127.0.0.1/app', 'cam', 'app'), BUCKETS)).toThrow(
      /application must be "live"/,
    );
    expect(() => ingestTarget(req('rtmp://nobucket.example.com/live', 'cam'), BUCKETS)).toThrow(/NoSuchBucket/);
    expect(() => ingestTarget(req('rtmp://127.0.0.1/live', '?Expires=1'), BUCKETS)).toThrow(/stream name/);
  });
});

describe('OSS_RTMP_ENDPOINT (publish URLs for the emulator RTMP port)', () => {
  const base = { OSS_ENDPOINT: 'http://127.0.0.1:9000', OSS_REGION: 'cn-hangzhou', BUCKETS: 'livecycle-demo' };

  it('makes the client sign rtmp://<that origin>/live/<channel>; unset, OSS hosts are unchanged', async () => {
    const credentials = { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 'secret-0123456789' };
    const local = createOssClient(loadConfig({ ...base, OSS_RTMP_ENDPOINT: 'rtmp://127.0.0.1:1935' }), {
      env: credentials,
    });
    expect(await local.bucket('livecycle-demo').signRtmpUrl('cam', { expiresInSeconds: 60 })).toMatch(
      /^rtmp:\/\/127\.0\.0\.1:1935\/live\/cam\?/,
    );
    const oss = createOssClient(loadConfig({ ...base, OSS_ENDPOINT: 'oss-cn-hangzhou-internal.aliyuncs.com' }), {
      env: credentials,
    });
    expect(await oss.bucket('livecycle-demo').signRtmpUrl('cam', { expiresInSeconds: 60 })).toMatch(
      /^rtmp:\/\/livecycle-demo\.oss-cn-hangzhou\.aliyuncs\.com\/live\/cam\?/,
    );
    await local.close();
    await oss.close();
  });

  it('refuses a value that is not rtmp://host[:port], naming the variable', () => {
    for (const bad of ['http://127.0.0.1:1935', 'rtmp://127.0.0.1:1935/live', 'not a url']) {
      expect(() => loadConfig({ ...base, OSS_RTMP_ENDPOINT: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, OSS_RTMP_ENDPOINT: bad })).toThrow(/OSS_RTMP_ENDPOINT/);
    }
  });
});

describe('fragment cuts (pure, reference §12.3)', () => {
  it('cuts at the first key frame at or after FragDuration, and without one after max(2×FragDuration, 60 s)', () => {
    expect(cutDecision(undefined, { dts: 0, keyframe: false }, 2)).toBe('skip');
    expect(cutDecision(undefined, { dts: 40, keyframe: true }, 2)).toBe('start');
    expect(cutDecision(0, { dts: 1960, keyframe: true }, 2)).toBe('append');
    expect(cutDecision(0, { dts: 2000, keyframe: true }, 2)).toBe('cut');
    expect(cutDecision(0, { dts: 2000, keyframe: false }, 2)).toBe('append');
    expect(cutDecision(0, { dts: 59_960, keyframe: false }, 2)).toBe('append');
    expect(cutDecision(0, { dts: 60_000, keyframe: false }, 2)).toBe('cut');
    expect(cutDecision(0, { dts: 199_960, keyframe: false }, 100)).toBe('append');
    expect(cutDecision(0, { dts: 200_000, keyframe: false }, 100)).toBe('cut');
  });
});

const ffmpeg = findFfmpeg();
const ffprobe = findFfprobe();
const missing = [!ffmpeg && 'ffmpeg (PATH or @ffmpeg-installer/ffmpeg)', !ffprobe && 'ffprobe (PATH)'].filter(Boolean);
if (missing.length) console.warn(`SKIPPED real RTMP ingest tests: no ${missing.join(' and no ')} on this machine`);

interface Run {
  code: number | null;
  stderr: string;
}

function run(bin: string, args: string[], opts: { stdin?: Buffer } = {}): Promise<Run & { stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, stdout: Buffer.concat(out) }));
    child.stdin.end(opts.stdin);
  });
}

/** ffmpeg publishing `seconds` of a 320×240 25 fps test pattern (1 s GOP, B-frames) with a 44.1 kHz tone. */
function push(url: string, seconds: number): Promise<Run> {
  return run(ffmpeg!.path, testPatternArgs(url, seconds));
}

const extinfs = (playlist: string) => [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));

// Generous bounds: real-time pushes (-re) on a loaded machine; nothing asserts on speed.
describe.skipIf(missing.length > 0)('real RTMP ingest with ffmpeg', { timeout: 180_000 }, () => {
  let emu: Emulator;
  let client: OssClient;
  let bucket: OssBucket;
  let work: string;

  beforeAll(async () => {
    emu = await quietEmulator({ rtmpPort: 0, buckets: BUCKETS });
    installClock(emu.clock); // the client signs on the emulator's (frozen) clock
    const key = emu.accessKeys[0]!;
    client = new OssClient({
      endpoint: emu.url,
      region: emu.region,
      pathStyle: true,
      rtmpEndpoint: emu.rtmpOrigin,
      credentials: staticCredentials({ accessKeyId: key.id, accessKeySecret: key.secret }),
    });
    bucket = client.bucket(BUCKETS[0]!);
    work = mkdtempSync(join(tmpdir(), 'livecycle-rtmp-'));
  });
  /** The channel's History once its one push has ended (the publisher's disconnect is asynchronous). */
  const endedPush = (channel: string) =>
    vi.waitFor(
      async () => {
        const h = await bucket.getLiveChannelHistory(channel);
        if (h.length !== 1) throw new Error('push not ended yet');
        return h;
      },
      { timeout: 30_000, interval: 50 },
    );

  afterAll(async () => {
    await client?.close();
    await emu?.stop();
    installClock(undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes fragments, a sliding live playlist, Stat, History, snapshots and a VOD that plays cleanly', async () => {
    const channel = 'real-cam';
    await bucket.putLiveChannel(channel, {
      target: { fragDuration: 2, fragCount: 2 },
      snapshot: { roleName: 'snap-role', destBucket: BUCKETS[0]!, notifyTopic: 'snaps', interval: 2 },
    });
    const snapshots: TopicMessage[] = [];
    emu.topics.subscribe('snaps', async (m) => void snapshots.push(m));
    const url = await bucket.signRtmpUrl(channel, { expiresInSeconds: 600 });
    expect(url.startsWith(`${emu.rtmpOrigin}/live/${channel}?`)).toBe(true);

    const pushing = push(url, 7);
    // Stat while live: the encoder's real figures once a fragment is stored.
    const stat = await vi.waitFor(
      async () => {
        const s = await bucket.getLiveChannelStat(channel);
        if (!(s.status === 'Live' && s.video && s.video.bandwidth > 0))
          throw new Error(`not yet: ${JSON.stringify(s)}`);
        return s;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(stat.video).toMatchObject({ width: 320, height: 240, frameRate: 25, codec: 'H264' });
    expect(stat.audio).toMatchObject({ sampleRate: 44100, codec: 'AAC' });
    expect(stat.remoteAddr).toMatch(/^127\.0\.0\.1:\d+$/);
    const result = await pushing;
    expect(result.code, result.stderr).toBe(0);

    const history = await endedPush(channel);
    expect((await bucket.getLiveChannelStat(channel)).status).toBe('Idle');

    // Live playlist: the last FragCount fragments; TARGETDURATION is the real maximum, rounded.
    const live = (await bucket.getObject(`${channel}/playlist.m3u8`)).body.toString();
    const liveDurations = extinfs(live);
    expect(liveDurations).toHaveLength(2);
    expect(live).toContain(`#EXT-X-TARGETDURATION:${Math.round(Math.max(...liveDurations))}\n`);

    // VOD of the session (the frozen clock put the whole push at one emulator instant).
    const window = {
      startTime: Math.floor(history[0]!.startTime / 1000),
      endTime: Math.ceil(history[0]!.endTime / 1000) + 1,
    };
    await bucket.postVodPlaylist(channel, 'vod.m3u8', window);
    const vod = (await bucket.getObject(`${channel}/vod.m3u8`)).body.toString();
    const durations = extinfs(vod);
    // 7 s at 1 s GOP, FragDuration 2: cuts at key frames 2, 4, 6 s; the tail is the rest.
    expect(durations.length).toBe(4);
    for (const d of durations.slice(0, -1)) expect(d).toBeCloseTo(2, 3);
    writeFileSync(join(work, 'vod.m3u8'), vod);
    const listed = await bucket.listObjects({ prefix: `${channel}/` });
    for (const o of listed.objects)
      if (o.key.endsWith('.ts'))
        writeFileSync(join(work, o.key.slice(channel.length + 1)), (await bucket.getObject(o.key)).body);

    // ffprobe's media duration (first pts to the end of the last frame) equals the EXTINF sum within one frame.
    const probe = await run(ffprobe!.path, [
      '-v',
      'error',
      '-show_entries',
      'packet=pts_time,duration_time',
      '-of',
      'csv=p=0',
      join(work, 'vod.m3u8'),
    ]);
    expect(probe.code, probe.stderr).toBe(0);
    const packets = probe.stdout
      .toString()
      .split('\n')
      .map((l) => l.split(','))
      .filter((f) => f[0] !== '' && f[1] !== undefined && f[1] !== '')
      .map((f) => ({ pts: Number(f[0]), duration: Number(f[1]) }));
    expect(packets.length).toBeGreaterThan(300);
    const media = Math.max(...packets.map((p) => p.pts + p.duration)) - Math.min(...packets.map((p) => p.pts));
    const sum = durations.reduce((a, b) => a + b, 0);
    expect(Math.abs(media - sum)).toBeLessThanOrEqual(1 / 25);
    expect(sum).toBeGreaterThan(6.9);

    // `ffmpeg -c copy` reads the VOD without a single warning (no dts, continuity or corruption messages).
    const copy = await run(ffmpeg!.path, [
      '-hide_banner',
      '-v',
      'warning',
      '-i',
      join(work, 'vod.m3u8'),
      '-c',
      'copy',
      '-f',
      'mpegts',
      '-y',
      join(work, 'copy.ts'),
    ]);
    expect(copy.code).toBe(0);
    expect(copy.stderr).toBe('');
    const decode = await run(ffmpeg!.path, [
      '-hide_banner',
      '-v',
      'warning',
      '-i',
      join(work, 'vod.m3u8'),
      '-f',
      'null',
      '-',
    ]);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe('');

    // Snapshots: real JPEG frames of the stream every Interval, announced on the topic.
    await vi.waitFor(() => expect(snapshots.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 50 });
    const first = JSON.parse(snapshots[0]!.body) as { object: string; destBucket: string };
    const jpeg = (await client.bucket(first.destBucket).getObject(first.object)).body;
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const image = await run(
      ffprobe!.path,
      [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        '-f',
        'image2pipe',
        '-i',
        'pipe:0',
      ],
      { stdin: jpeg },
    );
    expect(image.stdout.toString().trim()).toBe('mjpeg,320,240');
  });

  it('livecycle push --rtmp publishes a real test pattern with the signed URL; refusals exit 1', async () => {
    const channel = 'push-cmd-cam';
    await bucket.putLiveChannel(channel, { target: { fragDuration: 1, fragCount: 3 } });
    const url = await bucket.signRtmpUrl(channel, { expiresInSeconds: 600 });
    const io = () => {
      const out: string[] = [];
      const err: string[] = [];
      return {
        out,
        err,
        command: createPushCommand({
          out: (l) => out.push(l),
          err: (l) => err.push(l),
          interrupt: new AbortController().signal,
        }),
      };
    };
    const usage = io();
    expect(await usage.command.run([channel, '--rtmp'])).toBe(2);
    expect(usage.err[0]).toContain('--rtmp needs --url');

    const ok = io();
    expect(await ok.command.run([channel, '--rtmp', '--url', url, '--seconds', '3']), ok.err.join('\n')).toBe(0);
    const history = await endedPush(channel);
    expect(history[0]!.remoteAddr).toMatch(/^127\.0\.0\.1:/);
    const fragments = (await bucket.listObjects({ prefix: `${channel}/` })).objects.filter((o) =>
      o.key.endsWith('.ts'),
    );
    expect(fragments.length).toBeGreaterThanOrEqual(3);

    const refused = io();
    await bucket.putLiveChannelStatus(channel, 'disabled');
    expect(await refused.command.run([channel, '--rtmp', '--url', url, '--seconds', '3'])).toBe(1);
    expect(refused.err.join('\n')).toContain('LiveChannelDisabled');
  });

  it('refuses an expired URL, a bad signature, a disabled channel and a second publisher with the error ffmpeg shows', async () => {
    const channel = 'guarded-cam';
    await bucket.putLiveChannel(channel, { target: { fragDuration: 2, fragCount: 3 } });
    const key = emu.accessKeys[0]!;
    const creds = { accessKeyId: key.id, accessKeySecret: key.secret };
    const nowS = Math.floor(emu.clock.now() / 1000);

    const expired = signRtmpUrl(emu.rtmpOrigin!, { bucket: BUCKETS[0]!, channel, expires: nowS - 1 }, creds);
    let r = await push(expired, 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AccessDenied: Request has expired.');

    const good = await bucket.signRtmpUrl(channel, { expiresInSeconds: 600 });
    r = await push(good.replace(/Signature=[^&]+/, 'Signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D'), 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SignatureDoesNotMatch');

    // A URL signed for the second bucket is refused on an IP host, which names the first bucket.
    r = await push(await client.bucket(BUCKETS[1]!).signRtmpUrl(channel, { expiresInSeconds: 600 }), 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SignatureDoesNotMatch|NoSuchLiveChannel/);

    await bucket.putLiveChannelStatus(channel, 'disabled');
    r = await push(good, 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('LiveChannelDisabled');
    await bucket.putLiveChannelStatus(channel, 'enabled');

    const first = push(good, 20);
    await vi.waitFor(
      async () => {
        if ((await bucket.getLiveChannelStat(channel)).status !== 'Live') throw new Error('not live yet');
      },
      { timeout: 60_000, interval: 50 },
    );
    r = await push(good, 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ChannelStillLive');
    // The emulator ends the first push (as the admin API's stop does): ffmpeg sees the connection go.
    await emu.ingest.stop({ bucket: BUCKETS[0]!, channel });
    const ended = await first;
    expect(ended.code).not.toBe(0);
    const history = await bucket.getLiveChannelHistory(channel);
    expect(history).toHaveLength(1);
  });

  it('drops a real publisher 10 s of emulator time after its channel is disabled, keeping what it wrote', async () => {
    const channel = 'disabled-live-cam';
    await bucket.putLiveChannel(channel, { target: { fragDuration: 1, fragCount: 3 } });
    const pushing = push(await bucket.signRtmpUrl(channel, { expiresInSeconds: 600 }), 60);
    await vi.waitFor(
      async () => {
        const s = await bucket.getLiveChannelStat(channel);
        if (!(s.status === 'Live' && s.video && s.video.bandwidth > 0)) throw new Error('no fragment yet');
      },
      { timeout: 60_000, interval: 50 },
    );
    await bucket.putLiveChannelStatus(channel, 'disabled');
    await emu.clock.advance(9_999);
    expect(emu.ingest.active().some((p) => p.channel === channel)).toBe(true);
    await emu.clock.advance(1);
    const ended = await pushing;
    expect(ended.code).not.toBe(0);
    const history = await endedPush(channel);
    expect(history[0]!.endTime - history[0]!.startTime).toBe(10_000);
    const fragments = (await bucket.listObjects({ prefix: `${channel}/` })).objects.filter((o) =>
      o.key.endsWith('.ts'),
    );
    expect(fragments.length).toBeGreaterThanOrEqual(2);
  });
});
