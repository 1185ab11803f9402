/**
 * `livecycle play <channel> [--vod NAME]`: prints the URL a player (ffplay, VLC, a browser HLS
 * player) opens to watch a channel of the local emulator live, or one of its VOD playlists.
 *
 * A player fetches the playlist and then every segment it names by a relative URI, without any
 * OSS signature, so the bucket must be readable anonymously: the stack is started with
 * `--public-read` (`livecycle start --public-read`, `livecycle emulator --public-read`). A
 * presigned playlist URL alone would not do (the segment URIs carry no signature), and
 * `x-oss-process=hls/sign` is not something this command relies on. The command checks the URL
 * the way a player would (playlist, then its segments, anonymously) before printing it, and
 * says what to do when it would not play.
 */
import * as HLS from 'hls-parser';
import { encodeKeyPath } from '../../shared/oss/signer';
import { channelArgument, endpointOption, parseCommandLine, parseOptions, UsageError } from './args';
import type { Command } from './types';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:9000';
const DEFAULT_BUCKET = 'livecycle-demo';
const DEFAULT_PLAYLIST = 'playlist.m3u8';

const USAGE = `Usage: livecycle play <channel> [options]

Prints the URL of a channel's live playlist (or, with --vod, of one of its VOD playlists) on the
local emulator, for ffplay, VLC or a browser HLS player, after checking that it plays: the
playlist and its segments are fetched anonymously, as a player does. The emulator must serve
the bucket public-read: \`livecycle start --public-read\` (or \`livecycle emulator --public-read\`).

Options:
  --vod NAME         a VOD playlist of the channel: the object <channel>/NAME (written by
                     PostVodPlaylist; the stack's are listed by GET /channels/<channel> as
                     vods[].playlist, which --vod also takes); default: the live playlist
  --playlist NAME    the live playlist's name (default ${DEFAULT_PLAYLIST}, the channel's PlaylistName
                     unless it was created with another)
  --bucket B         bucket of the channel (default ${DEFAULT_BUCKET})
  --endpoint URL     the emulator (default ${DEFAULT_ENDPOINT})
  -h, --help         show this help

The URL alone goes to stdout, so \`ffplay "$(node bin/livecycle.js play cam-1)"\` works.
Exit codes: 0 the URL plays, 1 it would not (the reason is printed), 2 usage error.`;

export interface PlayCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

class WontPlay extends Error {}

function parsePlayArgs(argv: string[]) {
  const { values, positionals } = parseOptions(argv, {
    allowPositionals: true,
    options: {
      vod: { type: 'string' },
      playlist: { type: 'string' },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true as const };
  const channel = channelArgument(positionals);
  if (values.vod !== undefined && values.playlist !== undefined)
    throw new UsageError('--vod and --playlist name two different playlists; give one');
  // --vod also takes the object key, as GET /channels/{name} lists it (`vods[].playlist`).
  const vod = values.vod?.startsWith(`${channel}/`) ? values.vod.slice(channel.length + 1) : values.vod;
  const name = vod ?? values.playlist ?? DEFAULT_PLAYLIST;
  if (!name.endsWith('.m3u8') || name.includes('/'))
    throw new UsageError(
      `${values.vod !== undefined ? '--vod' : '--playlist'} must be a playlist name ending in .m3u8, got ${name}`,
    );
  return {
    help: false as const,
    channel,
    name,
    vod: values.vod !== undefined,
    bucket: values.bucket ?? DEFAULT_BUCKET,
    endpoint: endpointOption(values.endpoint, DEFAULT_ENDPOINT),
  };
}

/** An anonymous GET, as a player sends it. */
async function fetchAsPlayer(url: string, endpoint: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new WontPlay(
      `cannot reach the emulator at ${endpoint} (${(err as Error).message}); is \`livecycle start --public-read\` running?`,
    );
  }
}

async function checkPlays(
  url: string,
  args: { endpoint: string; bucket: string; channel: string; name: string; vod: boolean },
): Promise<HLS.types.MediaPlaylist> {
  const res = await fetchAsPlayer(url, args.endpoint);
  const key = `${args.channel}/${args.name}`;
  if (res.status === 403) {
    throw new WontPlay(
      `${args.bucket} is private, so a player (which sends no signature) is refused. Restart the stack with \`livecycle start --public-read\` (or \`livecycle emulator --public-read\`).`,
    );
  }
  if (res.status === 404) {
    throw new WontPlay(
      args.vod
        ? `no VOD playlist ${args.bucket}/${key}: make one first (PostVodPlaylist to ${key}, or the stack's generate-vod after a broadcast ends)`
        : `no live playlist ${args.bucket}/${key} yet: push to the channel first (\`livecycle push ${args.channel}\`), or name the channel's playlist with --playlist`,
    );
  }
  if (res.status !== 200) throw new WontPlay(`GET ${url} answered ${res.status}`);
  let playlist: HLS.types.Playlist;
  try {
    playlist = HLS.parse(await res.text());
  } catch (err) {
    throw new WontPlay(`${args.bucket}/${key} is not an HLS playlist (${(err as Error).message})`);
  }
  if (playlist.isMasterPlaylist)
    throw new WontPlay(`${args.bucket}/${key} is a master playlist, not a channel's media playlist`);
  const media = playlist as HLS.types.MediaPlaylist;
  if (media.segments.length === 0) throw new WontPlay(`${args.bucket}/${key} lists no segment`);
  for (const segment of media.segments) {
    const segmentUrl = new URL(segment.uri, url).href;
    const got = await fetchAsPlayer(segmentUrl, args.endpoint);
    await got.body?.cancel();
    // A live window moves on: a segment gone since the playlist was read is not a fault.
    if (got.status !== 200 && !(got.status === 404 && !media.endlist))
      throw new WontPlay(`segment ${segmentUrl} answered ${got.status}`);
  }
  return media;
}

export function createPlayCommand(io: PlayCommandIo): Command {
  const command: Command = {
    name: 'play',
    summary: 'print a URL that ffplay, VLC or a browser plays: a channel live, or one of its VODs',
    usage: USAGE,
    async run(argv) {
      const args = parseCommandLine(command, () => parsePlayArgs(argv));
      if (args === undefined) return 2;
      if (args.help) {
        io.out(USAGE);
        return 0;
      }
      const url = `${args.endpoint}/${args.bucket}/${encodeKeyPath(args.channel)}/${encodeKeyPath(args.name)}`;
      let playlist: HLS.types.MediaPlaylist;
      try {
        playlist = await checkPlays(url, args);
      } catch (err) {
        if (!(err instanceof WontPlay)) throw err;
        io.err(`livecycle play: ${err.message}`);
        return 1;
      }
      const seconds = playlist.segments.reduce((s, seg) => s + seg.duration, 0);
      io.err(
        playlist.endlist
          ? `VOD: ${playlist.segments.length} segment(s), ${seconds.toFixed(3)} s`
          : `live: a window of ${playlist.segments.length} segment(s), rewritten as fragments arrive`,
      );
      io.err(
        `play it with: ffplay '${url}'   or: vlc '${url}'   or in a browser: Safari directly, others through an hls.js page`,
      );
      io.out(url);
      return 0;
    },
  };
  return command;
}

export const playCommand: Command = createPlayCommand({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
