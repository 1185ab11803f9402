import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { OssErrorResponse } from './types';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text content; control characters XML 1.0 cannot carry become character references. */
export function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g,
    (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`,
  );
}

/** `<name>escaped value</name>`. */
export function leaf(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>children…</name>` from already rendered children (undefined ones skipped). */
export function node(name: string, children: (string | undefined)[]): string {
  return `<${name}>${children.filter((c) => c !== undefined).join('')}</${name}>`;
}

export function xmlDocument(root: string): string {
  return XML_DECLARATION + root;
}

export function malformedXml(): OssErrorResponse {
  return new OssErrorResponse(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema.',
  );
}

const REFERENCE = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));|&/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Only the five predefined entities and character references: no DTD, nothing to expand. */
function decodeEntities(value: string): string {
  return value.replace(REFERENCE, (_m, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name) return NAMED[name]!;
    // A bare '&' or an entity nobody declared (there is no DTD) is not well-formed XML.
    if (dec === undefined && hex === undefined) throw malformedXml();
    const cp = Number.parseInt((dec ?? hex)!, dec ? 10 : 16);
    if (!(cp >= 1 && cp <= 0x10ffff)) throw malformedXml();
    return String.fromCodePoint(cp);
  });
}

/**
 * Parses a request body as XML, or throws 400 MalformedXML. Any DOCTYPE is refused outright
 * (entity-expansion and external-entity attacks need one), entity processing in the parser is
 * off, values are kept as strings and untrimmed (object keys may start or end with spaces).
 */
export function parseRequestXml(body: Buffer, repeated: readonly string[]): Record<string, unknown> {
  const text = body.toString('utf8');
  if (/<!DOCTYPE|<!ENTITY/i.test(text) || XMLValidator.validate(text) !== true) throw malformedXml();
  const parser = new XMLParser({
    ignoreAttributes: true,
    processEntities: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => repeated.includes(name),
    tagValueProcessor: (_name, value) => decodeEntities(value),
  });
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof OssErrorResponse) throw err;
    throw malformedXml();
  }
}
