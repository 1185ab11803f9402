/**
 * LiveChannelConfiguration: parsing and validation of the PutLiveChannel body (reference §2)
 * and the name rules shared with the other operations and the ingest.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalidArgument, malformedXml } from './errors';

export interface SnapshotConfig {
  roleName: string;
  destBucket: string;
  notifyTopic: string;
  /** Seconds between snapshots. */
  interval: number;
}

export interface ChannelConfig {
  description: string;
  status: 'enabled' | 'disabled';
  type: 'HLS';
  /** Seconds of media per .ts fragment. */
  fragDuration: number;
  /** Fragments listed in the live playlist. */
  fragCount: number;
  playlistName: string;
  snapshot?: SnapshotConfig;
}

export const DEFAULT_FRAG_DURATION = 5;
export const DEFAULT_FRAG_COUNT = 3;
export const DEFAULT_PLAYLIST_NAME = 'playlist.m3u8';

const parser = new XMLParser({
  ignoreAttributes: true,
  // Keep every value a string: '0001' or '12123214323431' must not become numbers (reference §1.3).
  parseTagValue: false,
  trimValues: true,
  // Repeated Snapshot nodes are an error with their own EC, so always collect them.
  isArray: (_name, jpath) => jpath === 'LiveChannelConfiguration.Snapshot',
});

type XmlNode = string | XmlNode[] | { [name: string]: XmlNode };

/** A child element's text; '' for an empty element, undefined when absent (empty counts as absent, §2). */
function childText(parent: Record<string, XmlNode>, name: string): string | undefined {
  const value = parent[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformedXml(`<${name}> must contain text and occur once.`);
  return value === '' ? undefined : value;
}

function childElement(parent: Record<string, XmlNode>, name: string): Record<string, XmlNode> | undefined {
  const value = parent[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw malformedXml(`<${name}> must contain elements and occur once.`);
  return value;
}

function integerIn(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

const VALID_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function isValidBucketName(name: string): boolean {
  return VALID_BUCKET_NAME.test(name);
}

/**
 * Channel names follow the object-key rules and must not contain '/' (reference §1.2): 1–1023
 * bytes of UTF-8, not starting with '\'. The leading '/' cannot occur: it would be a separator.
 */
export function validateChannelName(name: string): void {
  if (name === '') throw invalidArgument('The live channel name must not be empty.');
  if (name.includes('/')) throw invalidArgument('The live channel name must not contain "/".');
  if (name.startsWith('\\')) throw invalidArgument('The live channel name must not start with "\\".');
  if (Buffer.byteLength(name, 'utf8') > 1023)
    throw invalidArgument('The live channel name must be at most 1023 bytes.');
}

/** PlaylistName rules (§2): no '/', 6–128 bytes, ends with '.m3u8'. Also applied to VOD and ingest names. */
export function validatePlaylistName(name: string): void {
  if (name.includes('/')) throw invalidArgument('PlaylistName must not contain "/".', '0044-00000016');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < 6 || bytes > 128) throw invalidArgument('PlaylistName must be 6 to 128 bytes long.', '0044-00000017');
  if (!name.endsWith('.m3u8')) throw invalidArgument('PlaylistName must end with ".m3u8".', '0044-00000018');
}

function parseSnapshot(node: Record<string, XmlNode>): SnapshotConfig {
  const roleName = childText(node, 'RoleName');
  if (roleName === undefined) throw invalidArgument('Snapshot RoleName must not be empty.', '0044-00000007');
  const destBucket = childText(node, 'DestBucket');
  if (destBucket === undefined || !isValidBucketName(destBucket)) {
    throw invalidArgument('Snapshot DestBucket is not a valid bucket name.', '0044-00000008');
  }
  const notifyTopic = childText(node, 'NotifyTopic');
  if (notifyTopic === undefined) throw invalidArgument('Snapshot NotifyTopic must not be empty.', '0044-00000006');
  // No EC for a bad Interval is documented (reference §1.4), so none is sent.
  const intervalText = childText(node, 'Interval');
  const interval = intervalText === undefined ? undefined : integerIn(intervalText, 1, 100);
  if (interval === undefined) throw invalidArgument('Snapshot Interval must be an integer from 1 to 100.');
  return { roleName, destBucket, notifyTopic, interval };
}

/** Parses a PutLiveChannel body into a complete configuration (defaults filled in), or throws the OSS error. */
export function parseChannelConfig(body: Buffer): ChannelConfig {
  const xml = body.toString('utf8');
  if (xml.trim() === '' || XMLValidator.validate(xml) !== true)
    throw malformedXml('The XML you provided was not well-formed.');
  const doc = parser.parse(xml) as Record<string, XmlNode>;
  const root = childElement(doc, 'LiveChannelConfiguration');
  if (!root) throw malformedXml('The root element must be <LiveChannelConfiguration>.');

  // Description limit: the API page says 128 bytes, the EC page characters; bytes is the
  // stricter reading, so anything the emulator accepts OSS accepts too.
  const description = childText(root, 'Description') ?? '';
  if (Buffer.byteLength(description, 'utf8') > 128)
    throw invalidArgument('Description must be at most 128 bytes.', '0044-00000001');

  const statusText = childText(root, 'Status') ?? 'enabled';
  if (statusText !== 'enabled' && statusText !== 'disabled') {
    throw invalidArgument('Status must be "enabled" or "disabled".', '0044-00000002');
  }

  // A missing Target or Type is "Type is not HLS" (0044-00000013): HLS is the only target.
  const target = childElement(root, 'Target');
  if (!target || childText(target, 'Type') !== 'HLS')
    throw invalidArgument('Target Type must be HLS.', '0044-00000013');

  const fragDurationText = childText(target, 'FragDuration');
  const fragCountText = childText(target, 'FragCount');
  let fragDuration = DEFAULT_FRAG_DURATION;
  let fragCount = DEFAULT_FRAG_COUNT;
  // Defaults apply only when both are absent; one without the other is rejected, with the EC
  // of the missing element (UNCONFIRMED: the reference knows no EC for this case).
  if (fragDurationText !== undefined || fragCountText !== undefined) {
    const d = fragDurationText === undefined ? undefined : integerIn(fragDurationText, 1, 100);
    if (d === undefined)
      throw invalidArgument(
        'FragDuration must be an integer from 1 to 100, given together with FragCount.',
        '0044-00000014',
      );
    const c = fragCountText === undefined ? undefined : integerIn(fragCountText, 1, 100);
    if (c === undefined)
      throw invalidArgument(
        'FragCount must be an integer from 1 to 100, given together with FragDuration.',
        '0044-00000015',
      );
    fragDuration = d;
    fragCount = c;
  }

  const playlistName = childText(target, 'PlaylistName') ?? DEFAULT_PLAYLIST_NAME;
  validatePlaylistName(playlistName);

  const config: ChannelConfig = { description, status: statusText, type: 'HLS', fragDuration, fragCount, playlistName };
  const snapshots = root['Snapshot'];
  if (Array.isArray(snapshots)) {
    if (snapshots.length > 1) throw invalidArgument('At most one Snapshot element is allowed.', '0044-00000003');
    const node = snapshots[0];
    // An empty <Snapshot/> is absent, like every other empty element.
    if (node !== undefined && node !== '') {
      if (typeof node !== 'object' || Array.isArray(node)) throw malformedXml('<Snapshot> must contain elements.');
      config.snapshot = parseSnapshot(node);
    }
  }
  return config;
}
