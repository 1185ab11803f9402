/**
 * hls-parser behind one door. Its lenient mode reports spec violations on the console; OSS's
 * own playlists trip some of them (TARGETDURATION rounded to nearest, §10), so parsing here is
 * lenient and quiet, and only text hls-parser cannot read at all is an error.
 */
import type * as HlsParser from 'hls-parser';
import type { types } from 'hls-parser';

/**
 * hls-parser, required on first use: only VOD work reads or writes playlists, and scripts/build.mjs
 * gives it a file of its own beside each bundle (dist/<fn>/hls-parser.js), so a cold start that
 * does none neither parses nor evaluates it. tsx and vitest load it from node_modules.
 */
export function hlsParser(): typeof HlsParser {
  return require('hls-parser') as typeof HlsParser;
}

export class InvalidPlaylistError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`${key} is not a readable m3u8 playlist: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'InvalidPlaylistError';
  }
}

/** Parses `text` (the object at `key`, named in errors). */
export function parsePlaylist(key: string, text: string): types.MasterPlaylist | types.MediaPlaylist {
  const { getOptions, parse, setOptions } = hlsParser();
  const saved = getOptions();
  // Options are module-global in hls-parser; parse is synchronous, so restoring in `finally`
  // leaves no window in which another caller sees ours.
  setOptions({ ...saved, strictMode: false, silent: true });
  try {
    return parse(text) as types.MasterPlaylist | types.MediaPlaylist;
  } catch (error) {
    throw new InvalidPlaylistError(key, error);
  } finally {
    setOptions(saved);
  }
}
