/**
 * Input checks run before any request is sent. Each throws OssValidationError naming the field.
 * Limits are OSS's documented ones (reference §1.2, §2, §9, §15); where we are stricter than OSS
 * the function says so.
 */
import { OssValidationError } from './errors';
import type { PutLiveChannelInput, VodWindow } from './types';

const MAX_KEY_BYTES = 1023;
/** OSS: PostVodPlaylist/GetVodPlaylist span "not more than 1 day" (C++ SDK allows exactly 86400). */
export const MAX_VOD_WINDOW_SECONDS = 86_400;
/** V4 presigned URLs are valid for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 86_400;
/**
 * livecycle's own cap on a signed RTMP publish URL's lifetime (stricter than OSS): a day, so a
 * leaked URL does not stay usable. Bounds both the api's `expiresInSeconds` and PUBLISH_URL_TTL.
 */
export const MAX_PUBLISH_URL_SECONDS = 86_400;
/** Unix seconds beyond this are surely milliseconds passed by mistake (year 5138). */
const MAX_UNIX_SECONDS = 1e11;

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

function requireString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new OssValidationError(field, `must be a string, got ${typeof value}`);
}

function requireIntInRange(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OssValidationError(field, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
}

/** Bucket names: 3–63 characters of `a-z 0-9 -`, starting and ending with a letter or digit. */
export function validateBucketName(name: unknown, field = 'bucket'): asserts name is string {
  requireString(name, field);
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name))
    throw new OssValidationError(
      field,
      `${JSON.stringify(name)} is not a valid bucket name (3-63 of a-z, 0-9, -; starts and ends alphanumeric)`,
    );
}

/** Object keys: 1–1023 UTF-8 bytes, not starting with `/` or `\`. */
export function validateObjectKey(key: unknown, field = 'key'): asserts key is string {
  requireString(key, field);
  if (key === '') throw new OssValidationError(field, 'must not be empty');
  if (byteLength(key) > MAX_KEY_BYTES) throw new OssValidationError(field, `must be at most ${MAX_KEY_BYTES} bytes`);
  if (key.startsWith('/') || key.startsWith('\\')) throw new OssValidationError(field, 'must not start with / or \\');
}

/** What OSS accepts as a channel name: an object key without `/`. */
export function validateChannelName(name: unknown, field = 'channel'): asserts name is string {
  validateObjectKey(name, field);
  if (name.includes('/')) throw new OssValidationError(field, 'must not contain /');
}

/** 6–128 bytes, ends with `.m3u8`, no `/`. */
export function validatePlaylistName(name: unknown, field = 'playlistName'): asserts name is string {
  requireString(name, field);
  const bytes = byteLength(name);
  if (bytes < 6 || bytes > 128) throw new OssValidationError(field, `must be 6-128 bytes, got ${bytes}`);
  if (!name.endsWith('.m3u8')) throw new OssValidationError(field, 'must end with .m3u8');
  if (name.includes('/')) throw new OssValidationError(field, 'must not contain /');
}

export function validateChannelStatus(status: unknown, field = 'status'): asserts status is 'enabled' | 'disabled' {
  if (status !== 'enabled' && status !== 'disabled')
    throw new OssValidationError(field, `must be "enabled" or "disabled", got ${JSON.stringify(status)}`);
}

export function validatePutLiveChannelInput(input: PutLiveChannelInput): void {
  if (input.description !== undefined) {
    requireString(input.description, 'description');
    if (byteLength(input.description) > 128) throw new OssValidationError('description', 'must be at most 128 bytes');
  }
  if (input.status !== undefined) validateChannelStatus(input.status);
  const target = input.target ?? {};
  const hasDuration = target.fragDuration !== undefined;
  const hasCount = target.fragCount !== undefined;
  if (hasDuration !== hasCount)
    throw new OssValidationError(
      hasDuration ? 'target.fragCount' : 'target.fragDuration',
      'fragDuration and fragCount must be given together or not at all',
    );
  if (hasDuration) requireIntInRange(target.fragDuration, 'target.fragDuration', 1, 100);
  if (hasCount) requireIntInRange(target.fragCount, 'target.fragCount', 1, 100);
  if (target.playlistName !== undefined) validatePlaylistName(target.playlistName, 'target.playlistName');
  if (input.snapshot) {
    const s = input.snapshot;
    requireString(s.roleName, 'snapshot.roleName');
    if (!s.roleName) throw new OssValidationError('snapshot.roleName', 'must not be empty');
    validateBucketName(s.destBucket, 'snapshot.destBucket');
    requireString(s.notifyTopic, 'snapshot.notifyTopic');
    if (!s.notifyTopic) throw new OssValidationError('snapshot.notifyTopic', 'must not be empty');
    requireIntInRange(s.interval, 'snapshot.interval', 1, 100);
  }
}

/** Unix seconds, endTime > startTime, span ≤ 1 day. */
export function validateVodWindow(window: VodWindow): void {
  requireIntInRange(window.startTime, 'startTime', 0, MAX_UNIX_SECONDS);
  requireIntInRange(window.endTime, 'endTime', 0, MAX_UNIX_SECONDS);
  if (window.endTime <= window.startTime)
    throw new OssValidationError('endTime', `must be after startTime (${window.startTime}), got ${window.endTime}`);
  if (window.endTime - window.startTime > MAX_VOD_WINDOW_SECONDS)
    throw new OssValidationError(
      'endTime',
      `window must span at most ${MAX_VOD_WINDOW_SECONDS} s, got ${window.endTime - window.startTime} s`,
    );
}

export function validateMaxKeys(value: number | undefined, field = 'maxKeys'): void {
  if (value !== undefined) requireIntInRange(value, field, 1, 1000);
}

/** prefix, marker, start-after, delimiter: OSS rejects 1024 bytes or more. */
export function validateListString(value: string | undefined, field: string): void {
  if (value === undefined) return;
  requireString(value, field);
  if (byteLength(value) >= 1024) throw new OssValidationError(field, 'must be shorter than 1024 bytes');
}

export function validateExpiresIn(
  seconds: unknown,
  field = 'expiresInSeconds',
  max = MAX_PRESIGN_SECONDS,
): asserts seconds is number {
  requireIntInRange(seconds, field, 1, max);
}

/** `x-oss-meta-<name>`: names must be HTTP token characters; values one line. */
export function validateMeta(meta: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(meta ?? {})) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
      throw new OssValidationError(`meta.${name}`, 'name must consist of HTTP token characters');
    requireString(value, `meta.${name}`);
    if (/[\r\n]/.test(value)) throw new OssValidationError(`meta.${name}`, 'value must not contain CR or LF');
  }
}
