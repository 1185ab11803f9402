/**
 * HLS media playlists as OSS writes them. The text is rendered here rather than with
 * hls-parser's stringify because the reference's VOD sample (§10) fixes details hls-parser
 * renders differently: MEDIA-SEQUENCE before TARGETDURATION and always present (even 0), and
 * EXTINF with exactly three decimals (`#EXTINF:7.120,`). Tests read the output back with
 * hls-parser.
 */
export interface PlaylistSegment {
  /** URI relative to the playlist: the bare object name, both live inside `<channel>/`. */
  uri: string;
  durationS: number;
}

export interface PlaylistInput {
  /** Sequence number of the first segment listed (0 for VOD; the sliding-window index for live). */
  mediaSequence: number;
  segments: PlaylistSegment[];
  /** VOD playlists end with #EXT-X-ENDLIST; live ones do not (§12.3). */
  ended: boolean;
}

export const PLAYLIST_CONTENT_TYPE = 'application/x-mpegURL';

export function renderPlaylist({ mediaSequence, segments, ended }: PlaylistInput): string {
  // TARGETDURATION is the longest EXTINF rounded to the nearest integer (13.320 → 13), as in §10.
  const target = Math.round(Math.max(0, ...segments.map((s) => s.durationS)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-MEDIA-SEQUENCE:${mediaSequence}`,
    `#EXT-X-TARGETDURATION:${target}`,
  ];
  for (const s of segments) lines.push(`#EXTINF:${s.durationS.toFixed(3)},`, s.uri);
  if (ended) lines.push('#EXT-X-ENDLIST');
  // Whether OSS ends the text with a newline is unknown (§10); a final newline is what HLS
  // tools expect of a text file.
  return `${lines.join('\n')}\n`;
}
