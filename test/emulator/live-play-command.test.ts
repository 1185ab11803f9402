/**
 * `livecycle play`: the URL it prints plays as a player would fetch it (anonymous playlist, then
 * every segment), live and VOD, on an emulator serving the bucket public-read; and it refuses,
 * saying why, where a player would fail.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlayCommand } from '../../local/commands/play';
import type { Emulator } from '../../local/emulator';
import { oss } from './helpers';
import { BUCKET, channelXml } from './live-helpers';
import { quietEmulator } from './setup';

const ffmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!ffmpeg)
  console.warn('live-play-command: ffmpeg not found on PATH: skipping the check that ffmpeg plays the printed URL');

let publicEmu: Emulator;
let privateEmu: Emulator;
beforeAll(async () => {
  publicEmu = await quietEmulator({ publicReadBuckets: [BUCKET] });
  privateEmu = await quietEmulator();
  for (const emu of [publicEmu, privateEmu]) {
    const res = await oss(emu, {
      method: 'PUT',
      key: 'cam-1',
      query: { live: '' },
      body: channelXml('<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>'),
    });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await publicEmu?.stop();
  await privateEmu?.stop();
});

async function play(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await createPlayCommand({ out: (l) => out.push(l), err: (l) => err.push(l) }).run(argv);
  return { code, out, err };
}

/** Fetches the URL as a browser player on another origin: the playlist, then every segment it names, unsigned. */
async function fetchAsPlayer(url: string) {
  const asBrowser = { headers: { origin: 'http://localhost:5173' } };
  const res = await fetch(url, asBrowser);
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const playlist = HLS.parse(await res.text()) as HLS.types.MediaPlaylist;
  expect(playlist.segments.length).toBeGreaterThan(0);
  for (const segment of playlist.segments) {
    const got = await fetch(new URL(segment.uri, url), asBrowser);
    expect(got.headers.get('access-control-allow-origin'), segment.uri).toBe('*');
    expect(Buffer.from(await got.arrayBuffer())[0], segment.uri).toBe(0x47); // MPEG-TS sync byte
  }
  return playlist;
}

describe('livecycle play', () => {
  it('prints the live playlist URL, then a VOD URL, each playable without a signature', async () => {
    await publicEmu.ingest.start({ bucket: BUCKET, channel: 'cam-1' });
    await publicEmu.clock.advance(6_000);
    const live = await play(['cam-1', '--endpoint', publicEmu.url]);
    expect(live.code, live.err.join('\n')).toBe(0);
    expect(live.out).toEqual([`${publicEmu.url}/${BUCKET}/cam-1/playlist.m3u8`]);
    expect(live.err.join('\n')).toContain('live: a window of 3 segment(s)');
    expect((await fetchAsPlayer(live.out[0]!)).endlist).toBe(false);

    await publicEmu.ingest.stop({ bucket: BUCKET, channel: 'cam-1' });
    const query = {
      vod: '',
      startTime: String(Math.floor(publicEmu.clock.now() / 1000) - 60),
      endTime: String(Math.ceil(publicEmu.clock.now() / 1000)),
    };
    expect((await oss(publicEmu, { method: 'POST', key: 'cam-1/vod.m3u8', query })).status).toBe(200);
    const vod = await play(['cam-1', '--vod', 'vod.m3u8', '--endpoint', publicEmu.url]);
    expect(vod.code, vod.err.join('\n')).toBe(0);
    expect(vod.out).toEqual([`${publicEmu.url}/${BUCKET}/cam-1/vod.m3u8`]);
    expect(vod.err.join('\n')).toContain('VOD: 3 segment(s), 6.000 s');
    expect((await fetchAsPlayer(vod.out[0]!)).endlist).toBe(true);
    expect((await play(['cam-1', '--vod', 'cam-1/vod.m3u8', '--endpoint', publicEmu.url])).out).toEqual(vod.out);
    if (ffmpeg) {
      const { stderr } = await promisify(execFile)('ffmpeg', [
        '-hide_banner',
        '-nostats',
        '-v',
        'warning',
        '-i',
        vod.out[0]!,
        '-f',
        'null',
        '-',
      ]);
      expect(stderr).toBe('');
    }
  });

  it('refuses, saying what to do, where a player would fail', async () => {
    const denied = await play(['cam-1', '--endpoint', privateEmu.url]);
    expect(denied.code).toBe(1);
    expect(denied.err.join('\n')).toContain('--public-read');
    expect(denied.out).toEqual([]);

    const noVod = await play(['cam-1', '--vod', 'none.m3u8', '--endpoint', publicEmu.url]);
    expect(noVod.code).toBe(1);
    expect(noVod.err[0]).toContain(`no VOD playlist ${BUCKET}/cam-1/none.m3u8`);
    const notPushed = await play(['other', '--endpoint', publicEmu.url]);
    expect(notPushed.code).toBe(1);
    expect(notPushed.err[0]).toContain('livecycle push other');
    const unreachable = await play(['cam-1', '--endpoint', 'http://127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err[0]).toContain('cannot reach the emulator');
  });

  it('prints help and refuses bad usage with exit code 2', async () => {
    expect((await play(['--help'])).out.join('\n')).toContain('Usage: livecycle play <channel>');
    for (const argv of [
      [],
      ['a', 'b'],
      ['a', '--vod', 'x.txt'],
      ['a', '--vod', 'b/c.m3u8'],
      ['a', '--vod', 'v.m3u8', '--playlist', 'p.m3u8'],
      ['a', '--endpoint', 'nope'],
      ['a', '--bogus'],
    ]) {
      const stderr: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
      const r = await play(argv);
      vi.restoreAllMocks();
      expect(r.code, argv.join(' ')).toBe(2);
      expect(stderr.join(''), argv.join(' ')).toMatch(/^livecycle play: .*\n\nUsage: livecycle play <channel>/);
    }
  });
});
