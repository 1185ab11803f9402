/**
 * XML bodies in and out. fast-xml-parser is configured so OSS data cannot surprise us: no DOCTYPE
 * entity expansion, no value coercion (`0001` stays a string; numbers, booleans and times are
 * converted explicitly), and elements that may repeat are always arrays, even with 0 or 1 items.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type {
  DeleteObjectsResult,
  LiveChannelConfig,
  LiveChannelStat,
  LiveChannelStatus,
  LiveChannelSummary,
  ListLiveChannelsResult,
  ListObjectsResult,
  LiveRecord,
  ObjectSummary,
  PutLiveChannelInput,
  PutLiveChannelResult,
} from './types';

/** A body that is not the XML we expected; the client turns it into an OssProtocolError. */
export class XmlShapeError extends Error {
  override name = 'XmlShapeError';
}

/** Elements that can occur any number of times, by their parent path. */
const REPEATED = new Set([
  'ListLiveChannelResult.LiveChannel',
  'ListLiveChannelResult.LiveChannel.PublishUrls.Url',
  'ListLiveChannelResult.LiveChannel.PlayUrls.Url',
  'CreateLiveChannelResult.PublishUrls.Url',
  'CreateLiveChannelResult.PlayUrls.Url',
  'LiveChannelHistory.LiveRecord',
  'ListBucketResult.Contents',
  'ListBucketResult.CommonPrefixes',
  'DeleteResult.Deleted',
  'DeleteResult.Error',
]);

/** Last path segments of REPEATED: only tags named like these need their full path built. */
const REPEATED_NAMES = new Set([...REPEATED].map((path) => path.slice(path.lastIndexOf('.') + 1)));

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Entity processing is off in the parser (it would also expand DOCTYPE-declared entities), so the
 * five predefined XML entities and character references are decoded here; anything else stays as
 * written.
 */
function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const codePoint = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // String.fromCodePoint throws a RangeError past U+10FFFF; a hostile body gets a protocol error instead.
      if (!(codePoint >= 0 && codePoint <= 0x10ffff))
        throw new XmlShapeError(`invalid character reference ${JSON.stringify(whole)}`);
      return String.fromCodePoint(codePoint);
    }
    return PREDEFINED_ENTITIES[ref] ?? whole;
  });
}

/** Parser options shared by both parsers below (see the module comment). */
const PARSE_OPTIONS = {
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  removeNSPrefix: true,
  jPath: false,
  tagValueProcessor: (_name: string, value: string) => decodeXmlText(value),
} as const;

const parser = new XMLParser({
  ...PARSE_OPTIONS,
  // With jPath on, the parser renders every element's path to a string for each callback (most
  // of a 1000-key ListObjectsV2 page's parse time); off, callbacks get its matcher, and the path
  // is rendered only for the few tag names that can be repeated.
  isArray: (name, matcher) => REPEATED_NAMES.has(name) && REPEATED.has(String(matcher)),
});

/**
 * The same parse, left in document order (`[{ Tag: [children] }, { '#text': '…' }]`): it skips
 * the parser's second pass that builds the object form (node2json), which is about a fifth of
 * the allocation of a 1000-key ListObjectsV2 page. Used where the expected shape is flat enough
 * to read directly (see orderedListBucketResult); any other shape goes through `parser`.
 */
const orderedParser = new XMLParser({ ...PARSE_OPTIONS, preserveOrder: true });

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });

type XmlNode = Record<string, unknown>;

/** Parses and returns the root element's content; throws XmlShapeError on malformed XML or another root. */
export function parseRoot(xml: string, root: string): XmlNode {
  checkXml(xml);
  return parsedRoot(xml, root);
}

/** Throws XmlShapeError for a DOCTYPE or malformed XML. */
function checkXml(xml: string): void {
  // OSS never sends a DOCTYPE. One in a response (entity bombs, XXE) is refused outright rather
  // than parsed with its entity references left as literal text.
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw new XmlShapeError('refused XML with a DOCTYPE or entity declaration');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new XmlShapeError(`malformed XML (${valid.err.msg}, line ${valid.err.line})`);
}

/** parseRoot over XML already checked. */
function parsedRoot(xml: string, root: string): XmlNode {
  const doc = parser.parse(xml) as XmlNode;
  if (!(root in doc))
    throw new XmlShapeError(
      `expected <${root}>, got ${
        Object.keys(doc)
          .map((k) => `<${k}>`)
          .join(', ') || 'no element'
      }`,
    );
  const node = doc[root];
  // `<Root/>` or `<Root></Root>` parse to ''.
  return node && typeof node === 'object' ? (node as XmlNode) : {};
}

function child(node: XmlNode, name: string): XmlNode | undefined {
  const value = node[name];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

function list(node: XmlNode | undefined, name: string): unknown[] {
  const value = node?.[name];
  return Array.isArray(value) ? value : [];
}

function nodes(node: XmlNode | undefined, name: string): XmlNode[] {
  return list(node, name).map((v) => (v && typeof v === 'object' ? (v as XmlNode) : {}));
}

/** Text of a leaf; '' for an empty element; undefined when absent. */
function text(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new XmlShapeError(`<${name}> is not a text element`);
}

function requiredText(node: XmlNode, name: string): string {
  const value = text(node, name);
  if (value === undefined) throw new XmlShapeError(`missing <${name}>`);
  return value;
}

function int(node: XmlNode, name: string): number {
  const raw = requiredText(node, name);
  if (!/^-?\d+$/.test(raw)) throw new XmlShapeError(`<${name}> is not an integer: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function bool(node: XmlNode, name: string): boolean {
  const raw = requiredText(node, name);
  if (raw !== 'true' && raw !== 'false') throw new XmlShapeError(`<${name}> is not true/false: ${JSON.stringify(raw)}`);
  return raw === 'true';
}

/** ISO 8601 → epoch ms. */
function time(node: XmlNode, name: string): number {
  const raw = requiredText(node, name);
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms)) throw new XmlShapeError(`<${name}> is not an ISO 8601 time: ${JSON.stringify(raw)}`);
  return ms;
}

function optional<T>(node: XmlNode, name: string, read: (node: XmlNode, name: string) => T): T | undefined {
  return text(node, name) === undefined ? undefined : read(node, name);
}

function urls(node: XmlNode, name: string): string[] {
  return list(child(node, name), 'Url').map((u) => (typeof u === 'string' ? u : ''));
}

function channelStatus(node: XmlNode): LiveChannelStatus {
  const raw = requiredText(node, 'Status');
  if (raw !== 'enabled' && raw !== 'disabled')
    throw new XmlShapeError(`<Status> is not enabled/disabled: ${JSON.stringify(raw)}`);
  return raw;
}

/** `<Error>` body fields (any root is accepted only if it is `Error`). */
export function parseErrorBody(xml: string): {
  code: string;
  message: string;
  requestId?: string;
  hostId?: string;
  ec?: string;
} {
  const e = parseRoot(xml, 'Error');
  return {
    code: requiredText(e, 'Code'),
    message: text(e, 'Message') ?? '',
    requestId: text(e, 'RequestId'),
    hostId: text(e, 'HostId'),
    ec: text(e, 'EC'),
  };
}

export function buildLiveChannelConfiguration(input: PutLiveChannelInput): string {
  const target: XmlNode = { Type: 'HLS' };
  if (input.target?.fragDuration !== undefined) target.FragDuration = input.target.fragDuration;
  if (input.target?.fragCount !== undefined) target.FragCount = input.target.fragCount;
  if (input.target?.playlistName !== undefined) target.PlaylistName = input.target.playlistName;
  const config: XmlNode = {};
  if (input.description !== undefined) config.Description = input.description;
  config.Status = input.status ?? 'enabled';
  config.Target = target;
  if (input.snapshot) {
    const s = input.snapshot;
    config.Snapshot = {
      RoleName: s.roleName,
      DestBucket: s.destBucket,
      NotifyTopic: s.notifyTopic,
      Interval: s.interval,
    };
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ LiveChannelConfiguration: config })}`;
}

export function parseCreateLiveChannelResult(xml: string): PutLiveChannelResult {
  const r = parseRoot(xml, 'CreateLiveChannelResult');
  return { publishUrls: urls(r, 'PublishUrls'), playUrls: urls(r, 'PlayUrls') };
}

export function parseLiveChannelConfiguration(xml: string): LiveChannelConfig {
  const r = parseRoot(xml, 'LiveChannelConfiguration');
  const target = child(r, 'Target');
  if (!target) throw new XmlShapeError('missing <Target>');
  const type = requiredText(target, 'Type');
  if (type !== 'HLS') throw new XmlShapeError(`<Type> is not HLS: ${JSON.stringify(type)}`);
  const config: LiveChannelConfig = {
    description: text(r, 'Description') ?? '',
    status: channelStatus(r),
    target: {
      type,
      fragDuration: int(target, 'FragDuration'),
      fragCount: int(target, 'FragCount'),
      playlistName: requiredText(target, 'PlaylistName'),
    },
  };
  const snapshot = child(r, 'Snapshot');
  if (snapshot) {
    config.snapshot = {
      roleName: requiredText(snapshot, 'RoleName'),
      destBucket: requiredText(snapshot, 'DestBucket'),
      notifyTopic: requiredText(snapshot, 'NotifyTopic'),
      interval: int(snapshot, 'Interval'),
    };
  }
  return config;
}

export function parseListLiveChannelResult(xml: string): ListLiveChannelsResult {
  const r = parseRoot(xml, 'ListLiveChannelResult');
  const channels: LiveChannelSummary[] = nodes(r, 'LiveChannel').map((c) => ({
    name: requiredText(c, 'Name'),
    description: text(c, 'Description') ?? '',
    status: channelStatus(c),
    lastModified: time(c, 'LastModified'),
    publishUrls: urls(c, 'PublishUrls'),
    playUrls: urls(c, 'PlayUrls'),
  }));
  const isTruncated = bool(r, 'IsTruncated');
  // UNCONFIRMED whether OSS omits NextMarker or sends it empty when not truncated: both mean "none".
  const nextMarker = text(r, 'NextMarker') || undefined;
  if (isTruncated && !nextMarker) throw new XmlShapeError('IsTruncated is true but <NextMarker> is missing');
  return isTruncated ? { channels, isTruncated, nextMarker } : { channels, isTruncated };
}

export function parseLiveChannelStat(xml: string): LiveChannelStat {
  const r = parseRoot(xml, 'LiveChannelStat');
  const status = requiredText(r, 'Status');
  if (status !== 'Idle' && status !== 'Live' && status !== 'Disabled')
    throw new XmlShapeError(`<Status> is not Idle/Live/Disabled: ${JSON.stringify(status)}`);
  const stat: LiveChannelStat = { status };
  const connectedTime = optional(r, 'ConnectedTime', time);
  if (connectedTime !== undefined) stat.connectedTime = connectedTime;
  const remoteAddr = text(r, 'RemoteAddr');
  if (remoteAddr !== undefined) stat.remoteAddr = remoteAddr;
  const video = child(r, 'Video');
  if (video) {
    stat.video = {
      width: int(video, 'Width'),
      height: int(video, 'Height'),
      frameRate: int(video, 'FrameRate'),
      bandwidth: int(video, 'Bandwidth'),
      // The Go v1 SDK forgets Codec; tolerate its absence rather than fail the whole stat.
      codec: text(video, 'Codec') ?? '',
    };
  }
  const audio = child(r, 'Audio');
  if (audio)
    stat.audio = {
      bandwidth: int(audio, 'Bandwidth'),
      sampleRate: int(audio, 'SampleRate'),
      codec: text(audio, 'Codec') ?? '',
    };
  return stat;
}

export function parseLiveChannelHistory(xml: string): LiveRecord[] {
  const r = parseRoot(xml, 'LiveChannelHistory');
  return nodes(r, 'LiveRecord').map((rec) => ({
    startTime: time(rec, 'StartTime'),
    endTime: time(rec, 'EndTime'),
    remoteAddr: text(rec, 'RemoteAddr') ?? '',
  }));
}

/** Under `<EncodingType>url</EncodingType>` OSS percent-encodes keys, prefixes and tokens. */
function nameDecoder(root: XmlNode): (value: string) => string {
  if (text(root, 'EncodingType') !== 'url') return (value) => value;
  return (value) => {
    try {
      return decodeURIComponent(value);
    } catch {
      throw new XmlShapeError(`not valid percent-encoding: ${JSON.stringify(value)}`);
    }
  };
}

/** The one own key of an ordered-parse entry; undefined for none or several. */
function soleKey(entry: unknown): string | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  let key: string | undefined;
  for (const k in entry) {
    if (!Object.hasOwn(entry, k)) continue;
    if (key !== undefined) return undefined;
    key = k;
  }
  return key;
}

/** An ordered element's content as a leaf's text: '' when empty, its one text node; undefined for anything else. */
function orderedLeaf(children: unknown): string | undefined {
  if (!Array.isArray(children) || children.length > 1) return undefined;
  if (children.length === 0) return '';
  const only = children[0] as Record<string, unknown>;
  if (soleKey(only) !== '#text') return undefined;
  const value = only['#text'];
  return typeof value === 'string' ? value : undefined;
}

/** Children that are all leaves with distinct names, as `{ name: text }`; undefined for anything else. */
function orderedLeaves(children: unknown, into: XmlNode = {}): XmlNode | undefined {
  if (!Array.isArray(children) || children.length === 0) return undefined;
  for (const entry of children) {
    const name = soleKey(entry);
    if (name === undefined || name === '#text' || name === '__proto__' || Object.hasOwn(into, name)) return undefined;
    const value = orderedLeaf((entry as Record<string, unknown>)[name]);
    if (value === undefined) return undefined;
    into[name] = value;
  }
  return into;
}

/**
 * A ListObjectsV2 body of the usual shape, read from the ordered parse into exactly what
 * parsedRoot(xml, 'ListBucketResult') returns for it: leaves under the root, `Contents` and
 * `CommonPrefixes` elements (always arrays) of distinct leaves. Undefined for any other shape
 * (nested elements, repeated leaves, stray text, empty entries), which parsedRoot then reads.
 */
function orderedListBucketResult(xml: string): XmlNode | undefined {
  const doc = orderedParser.parse(xml) as unknown;
  if (!Array.isArray(doc) || doc.length !== 1 || soleKey(doc[0]) !== 'ListBucketResult') return undefined;
  const children = (doc[0] as Record<string, unknown>).ListBucketResult;
  if (!Array.isArray(children) || children.length === 0) return undefined;
  const root: XmlNode = {};
  const contents: XmlNode[] = [];
  const prefixes: XmlNode[] = [];
  for (const entry of children) {
    const name = soleKey(entry);
    if (name === undefined) return undefined;
    const value = (entry as Record<string, unknown>)[name];
    if (name === 'Contents' || name === 'CommonPrefixes') {
      const leaves = orderedLeaves(value);
      if (!leaves) return undefined;
      (name === 'Contents' ? contents : prefixes).push(leaves);
    } else {
      const text = orderedLeaf(value);
      if (text === undefined || name === '#text' || name === '__proto__' || Object.hasOwn(root, name)) return undefined;
      root[name] = text;
    }
  }
  if (contents.length) root.Contents = contents;
  if (prefixes.length) root.CommonPrefixes = prefixes;
  return root;
}

/** ListObjectsV2 page (we always request encoding-type=url, so names are decoded). */
export function parseListBucketResult(xml: string): ListObjectsResult {
  checkXml(xml);
  const r = orderedListBucketResult(xml) ?? parsedRoot(xml, 'ListBucketResult');
  const decode = nameDecoder(r);
  const objects: ObjectSummary[] = nodes(r, 'Contents').map((c) => {
    const summary: ObjectSummary = {
      key: decode(requiredText(c, 'Key')),
      lastModified: time(c, 'LastModified'),
      etag: stripQuotes(requiredText(c, 'ETag')),
      size: int(c, 'Size'),
    };
    const storageClass = text(c, 'StorageClass');
    if (storageClass !== undefined) summary.storageClass = storageClass;
    const type = text(c, 'Type');
    if (type !== undefined) summary.type = type;
    return summary;
  });
  const commonPrefixes = nodes(r, 'CommonPrefixes').map((p) => decode(requiredText(p, 'Prefix')));
  const isTruncated = bool(r, 'IsTruncated');
  const token = text(r, 'NextContinuationToken') || undefined;
  if (isTruncated && !token) throw new XmlShapeError('IsTruncated is true but <NextContinuationToken> is missing');
  const keyCount = optional(r, 'KeyCount', int) ?? objects.length + commonPrefixes.length;
  const result: ListObjectsResult = { objects, commonPrefixes, isTruncated, keyCount };
  // The continuation token is opaque; OSS url-encodes it too under encoding-type=url.
  if (isTruncated && token) result.nextContinuationToken = decode(token);
  return result;
}

export function buildDeleteRequest(keys: readonly string[], quiet: boolean): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ Delete: { Quiet: quiet, Object: keys.map((Key) => ({ Key })) } })}`;
}

/**
 * DeleteMultipleObjects result. Per-key failures are read as S3-style `<Error><Key/><Code/>
 * <Message/></Error>` entries: the reference shows only `Deleted`, so that shape is UNCONFIRMED.
 */
export function parseDeleteResult(xml: string): DeleteObjectsResult {
  const r = parseRoot(xml, 'DeleteResult');
  const decode = nameDecoder(r);
  return {
    deleted: nodes(r, 'Deleted').map((d) => decode(requiredText(d, 'Key'))),
    errors: nodes(r, 'Error').map((e) => ({
      key: decode(requiredText(e, 'Key')),
      code: text(e, 'Code') ?? '',
      message: text(e, 'Message') ?? '',
    })),
  };
}

export function stripQuotes(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}
