import { createHash } from 'node:crypto';
import { errors } from '../errors';
import { V1_SUB_RESOURCES } from '../signature';
import type { EmuRequest, EmuResponse } from '../types';

/**
 * Query keys that are V1 sub-resources but do not select an operation: credentials of presigned
 * URLs and GetObject's response-header overrides. Every other sub-resource names an operation
 * (`?acl`, `?uploads`, `?live`, …); a request carrying one the emulator lacks gets NotImplemented.
 */
function isPassiveParam(name: string): boolean {
  return (
    name === 'security-token' ||
    name === 'continuation-token' ||
    name.startsWith('response-') ||
    name.startsWith('x-oss-')
  );
}

/** Operation-selecting sub-resources present in the query. */
export function operationSubResources(req: EmuRequest): string[] {
  return [...req.query.keys()].filter((k) => V1_SUB_RESOURCES.has(k) && !isPassiveParam(k));
}

/** True when the request selects no sub-resource operation except the allowed ones. */
export function hasOnlySubResources(req: EmuRequest, allowed: readonly string[] = []): boolean {
  return operationSubResources(req).every((s) => allowed.includes(s));
}

export function xmlResponse(status: number, xml: string, headers: Record<string, string> = {}): EmuResponse {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: xml };
}

/** RFC 1123 date, as in Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** ISO 8601 UTC with milliseconds, as in XML timestamps (reference §1.3). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Checks a Content-MD5 header (base64 of the 16-byte MD5 of the body) when sent, or when
 * `required`; 400 InvalidDigest on a mismatch, a malformed value or a missing required one.
 */
export function verifyContentMd5(req: EmuRequest, required: boolean): void {
  const sent = req.headers['content-md5'];
  if (sent === undefined) {
    if (required) throw errors.missingContentMd5();
    return;
  }
  const actual = createHash('md5').update(req.body).digest('base64');
  if (sent.trim() !== actual) throw errors.invalidDigest(sent);
}
