import { XMLBuilder } from 'fast-xml-parser';
import type { EmuResponse } from '../types';

const builder = new XMLBuilder({ format: true, indentBy: '  ' });

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const TEXT_ESCAPES = /[&<>'"]/g;
const TEXT_ESCAPE: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };
const INDENTS = Array.from({ length: 16 }, (_, i) => '  '.repeat(i));

/** Thrown inside renderNode for a shape the fast path does not cover; the builder renders it. */
const UNSUPPORTED = Symbol('unsupported');

/** The builder's text value: entities escaped (strings only), -0 kept as "-0". */
function textOf(value: string | number | boolean): string {
  if (typeof value === 'string') return value.replace(TEXT_ESCAPES, (c) => TEXT_ESCAPE[c]!);
  return typeof value === 'number' && Object.is(value, -0) ? '-0' : String(value);
}

function renderNode(name: string, value: unknown, level: number): string {
  if (value === undefined) return '';
  if (!PLAIN_NAME.test(name) || level >= INDENTS.length) throw UNSUPPORTED;
  const indent = INDENTS[level]!;
  if (value === null) return `${indent}<${name}/>\n`;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return `${indent}<${name}>${textOf(value)}</${name}>\n`;
    case 'object':
      break;
    default:
      throw UNSUPPORTED;
  }
  if (Array.isArray(value)) {
    let out = '';
    for (const item of value) {
      // The builder writes a list's null items before all its other items; not worth copying.
      if (Array.isArray(item) || item === null) throw UNSUPPORTED;
      out += renderNode(name, item, level);
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) throw UNSUPPORTED;
  let children = '';
  for (const key of Object.keys(value)) children += renderNode(key, (value as Record<string, unknown>)[key], level + 1);
  return children === '' ? `${indent}<${name}></${name}>\n` : `${indent}<${name}>\n${children}${indent}</${name}>\n`;
}

/**
 * Exactly what `new XMLBuilder({ format: true, indentBy: '  ' }).build({ [root]: content })`
 * writes (test/emulator/xml-render.test.ts compares the two on random documents), for the
 * shapes operations produce: nested plain objects, arrays, strings, numbers, booleans, null and
 * undefined under ordinary element names. The builder validates names and tracks paths for
 * features we do not use, which made it a tenth of a GetLiveChannelStat's CPU; anything outside
 * those shapes (attributes `@_x`, `#text`, Dates, nested arrays) still goes through it.
 */
export function renderXml(root: string, content: unknown): string {
  try {
    return renderNode(root, content, 0);
  } catch (err) {
    if (err !== UNSUPPORTED) throw err;
    return builder.build({ [root]: content }) as string;
  }
}

/** A 200 XML response the way OSS writes it (§1.3): declaration, no namespace, application/xml. */
export function xmlResponse(root: string, content: unknown): EmuResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${renderXml(root, content)}`,
  };
}

/** ISO 8601 UTC with milliseconds (`2016-08-25T06:25:15.000Z`), the LiveChannel time format. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
