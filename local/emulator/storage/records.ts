import { createHash } from 'node:crypto';
import { crc64 } from './crc64';
import { OssErrorResponse, type ObjectRecord, type PutObjectAttributes } from '../types';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function md5Hex(body: Buffer): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

export function newObjectRecord(key: string, body: Buffer, attrs: PutObjectAttributes, nowMs: number): ObjectRecord {
  return {
    key,
    size: body.length,
    etag: md5Hex(body),
    crc64: crc64(body),
    lastModified: nowMs,
    contentType: attrs.contentType || DEFAULT_CONTENT_TYPE,
    meta: { ...(attrs.meta ?? {}) },
  };
}

/** Raised by the stores themselves so the existence check and the write are one step. */
export function fileAlreadyExists(key: string): OssErrorResponse {
  return new OssErrorResponse(
    409,
    'FileAlreadyExists',
    'The object you specified already exists and can not be overwritten.',
    { Key: key },
  );
}
