import { XMLBuilder } from 'fast-xml-parser';
import type { EmuResponse } from '../types';

const builder = new XMLBuilder({ format: true, indentBy: '  ' });

/** A 200 XML response the way OSS writes it (§1.3): declaration, no namespace, application/xml. */
export function xmlResponse(root: string, content: unknown): EmuResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: content })}`,
  };
}

/** ISO 8601 UTC with milliseconds (`2016-08-25T06:25:15.000Z`), the LiveChannel time format. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
