import * as v from 'valibot';
import { parseVodPlaylistName } from '../lifecycle/vod';
import { ApiError } from './errors';
import type { HttpRequest } from './event';

/**
 * A field check: returns the typed value or throws a 400 ApiError naming `field`. `schema` is the
 * valibot schema it runs, which also describes the field in openapi.json.
 */
export type Validator<T> = ((value: unknown, field: string) => T) & { readonly schema: v.GenericSchema<unknown, T> };

export type JsonObject = Record<string, unknown>;

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, 'invalid_field', `${field} ${message}`, field);
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as a JSON object. An empty body reads as `{}` so routes without required
 * fields accept a bare POST; a non-empty body must be declared `application/json` (415 otherwise).
 */
export function readJsonBody(request: HttpRequest): JsonObject {
  if (request.body.length === 0) return {};
  const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json')
    throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json', 'Content-Type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Fatal.decode(request.body));
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body is not valid UTF-8 JSON', 'body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ApiError(400, 'invalid_json', 'request body must be a JSON object', 'body');
  return parsed as JsonObject;
}

/**
 * Strict input: a field the route does not know is refused rather than ignored, so a typo
 * (`fragCont`) or a field from a newer client never silently does nothing.
 */
export function rejectUnknownFields(input: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) {
      throw new ApiError(
        400,
        'unknown_field',
        `unknown field ${JSON.stringify(key.slice(0, 64))}; allowed: ${allowed.join(', ') || 'none'}`,
        key.slice(0, 64),
      );
    }
  }
}

export function required<T>(input: Readonly<Record<string, unknown>>, field: string, validate: Validator<T>): T {
  const value = Object.hasOwn(input, field) ? input[field] : undefined;
  if (value === undefined || value === null) throw new ApiError(400, 'missing_field', `${field} is required`, field);
  return validate(value, field);
}

/** `undefined` when absent (or JSON null), else the validated value. */
export function optional<T>(
  input: Readonly<Record<string, unknown>>,
  field: string,
  validate: Validator<T>,
): T | undefined {
  const value = Object.hasOwn(input, field) ? input[field] : undefined;
  return value === undefined || value === null ? undefined : validate(value, field);
}

/** The validator running `schema`; its first issue's message becomes `${field} ${message}`. */
function validator<T>(schema: v.GenericSchema<unknown, T>): Validator<T> {
  const check = (value: unknown, field: string): T => {
    const result = v.safeParse(schema, value, { abortEarly: true });
    if (!result.success) throw invalid(field, result.issues[0].message);
    return result.output;
  };
  return Object.assign(check, { schema });
}

// C0 controls, DEL and C1 controls: they cannot travel in OSS's XML bodies and corrupt log lines.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function text(minBytes: number, maxBytes: number) {
  const size = (issue: v.BaseIssue<unknown>) => `must be ${minBytes}–${maxBytes} bytes (UTF-8), got ${issue.received}`;
  return v.pipe(
    v.string('must be a string'),
    v.minBytes(minBytes, size),
    v.maxBytes(maxBytes, size),
    v.check((value) => !CONTROL.test(value), 'must not contain control characters'),
  );
}

/**
 * The one rule for channel names in the api, for the name a create is given and for the
 * `{name}` of every other route alike, so every channel the api creates can be addressed
 * afterwards: 1–128 of `[A-Za-z0-9._-]` (no escaping anywhere, reference §11.1), starting with a
 * letter or digit (which keeps out the ledger's `_livecycle`), and no `..` (the router refuses it
 * in any path parameter: proxies and URL libraries may collapse dot segments).
 */
const CHANNEL_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CHANNEL_NAME_RULE = 'must be 1–128 of A-Z a-z 0-9 . _ -, start with a letter or digit, and not contain ..';

export const channelName = validator(v.pipe(v.string(CHANNEL_NAME_RULE), v.regex(CHANNEL_NAME, CHANNEL_NAME_RULE)));

const VOD_KEY_RULE = 'must be the file name of a generated VOD playlist: vod-<YYYYMMDDTHHMMSSZ>[-partNNN].m3u8';

/**
 * A VOD's key: the file name of a VOD playlist livecycle generated, `vod-<broadcast
 * id>[-partNNN].m3u8` (e.g. `vod-20240501T120000Z.m3u8`). Holds are stored under this name and
 * cleanup pins the playlist whose file name equals it (docs/cleanup.md); these names are short,
 * so they always fit the ledger's 128-character hold ids. Other playlists (a manual VOD's custom
 * `playlistName`, the live playlist) are never expired by retention, so they need no hold.
 */
export const vodKey = validator(
  v.pipe(
    v.string(VOD_KEY_RULE),
    v.check((value) => parseVodPlaylistName(value) !== undefined, VOD_KEY_RULE),
  ),
);

export const description = validator(text(0, 128));

/** A short free-text note kept in the ledger (e.g. why a VOD is held). */
export const note = validator(text(1, 256));

export const playlistName = validator(
  v.pipe(
    text(6, 128),
    v.endsWith('.m3u8', 'must end with .m3u8'),
    v.check((name) => !name.includes('/') && !name.includes('\\'), 'must not contain / or \\'),
  ),
);

export const boolean = validator(v.boolean('must be true or false'));

export function integer(min: number, max: number): Validator<number> {
  const rule = `must be an integer from ${min} to ${max}`;
  return validator(v.pipe(v.number(rule), v.integer(rule), v.minValue(min, rule), v.maxValue(max, rule)));
}

export const fragValue = integer(1, 100);

const CNY_RULE = 'must be a number of CNY from 0 to 1000000000';
/** An amount of CNY (a monthly budget; 0 means none). */
export const cny = validator(
  v.pipe(v.number(CNY_RULE), v.finite(CNY_RULE), v.minValue(0, CNY_RULE), v.maxValue(1e9, CNY_RULE)),
);

/** fragDuration and fragCount configure one HLS window together, so neither comes alone. */
export function fragSettings(
  input: Readonly<Record<string, unknown>>,
): { fragDuration: number; fragCount: number } | undefined {
  const fragDuration = optional(input, 'fragDuration', fragValue);
  const fragCount = optional(input, 'fragCount', fragValue);
  if (fragDuration === undefined && fragCount === undefined) return undefined;
  if (fragDuration === undefined) throw invalid('fragDuration', 'is required together with fragCount');
  if (fragCount === undefined) throw invalid('fragCount', 'is required together with fragDuration');
  return { fragDuration, fragCount };
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2}))$/;
/** Epoch-ms values below this (March 1973) are almost surely epoch seconds sent by mistake. */
const MIN_EPOCH_MS = 100_000_000_000;
const MAX_EPOCH_MS = 8_640_000_000_000_000;

/** Epoch ms of an ISO-8601 date-time with zone, or the reason it is not one. */
function isoToEpochMs(value: string): number | string {
  const m = ISO_8601.exec(value);
  if (!m) return 'must be an ISO-8601 date-time with a zone (e.g. 2024-05-01T12:00:00Z) or epoch milliseconds';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? '0').padEnd(3, '0'));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 2024-02-30 over into March; a real date survives the round trip.
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return 'is not a real calendar date-time';
  }
  const offsetMinutes = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (Math.abs(offsetMinutes) > 14 * 60) return 'has a zone offset beyond ±14:00';
  return utc - offsetMinutes * 60_000;
}

const INSTANT_RULE = 'must be an ISO-8601 date-time string or an integer of epoch milliseconds';

/** A point in time as an ISO-8601 string with zone, or epoch milliseconds; returns epoch ms. */
export const instant = validator(
  v.pipe(
    v.union([v.string(), v.pipe(v.number(), v.safeInteger())], INSTANT_RULE),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const value = dataset.value;
      const ms =
        typeof value === 'string'
          ? isoToEpochMs(value)
          : value < MIN_EPOCH_MS
            ? 'is before 1973 — epoch milliseconds expected, not seconds'
            : value > MAX_EPOCH_MS
              ? 'is out of range'
              : value;
      if (typeof ms === 'string') {
        addIssue({ message: ms });
        return NEVER;
      }
      return ms;
    }),
  ),
);

/**
 * The longest manual VOD range. OSS caps one playlist at 24 h, and the shared VOD operation splits
 * longer ranges into consecutive playlists; the cap stops a typo from asking for years of them.
 */
export const MAX_VOD_SPAN_MS = 7 * 24 * 3600_000;

export function vodRange(input: Readonly<Record<string, unknown>>): { startMs: number; endMs: number } {
  const startMs = required(input, 'start', instant);
  const endMs = required(input, 'end', instant);
  if (endMs <= startMs) throw invalid('end', 'must be after start');
  if (endMs - startMs > MAX_VOD_SPAN_MS) throw invalid('end', 'must be at most 7 days after start');
  return { startMs, endMs };
}

/** Query parameters arrive as strings; these parse them strictly. */
const DECIMAL = /^[0-9]{1,7}$/;
const LIMIT_RULE = 'must be an integer from 1 to 1000';

export const queryLimit = validator(
  v.pipe(
    v.string(LIMIT_RULE),
    v.regex(DECIMAL, LIMIT_RULE),
    v.transform(Number),
    v.minValue(1, LIMIT_RULE),
    v.maxValue(1000, LIMIT_RULE),
  ),
);

export const queryBoolean = validator(
  v.pipe(
    v.picklist(['true', 'false'], 'must be true or false'),
    v.transform((value) => value === 'true'),
  ),
);

/** An opaque pagination cursor handed out by a previous page. */
export const cursor = validator(text(1, 1024));

export interface Page {
  limit?: number;
  cursor?: string;
}

export function page(query: Readonly<Record<string, string>>): Page {
  return { limit: optional(query, 'limit', queryLimit), cursor: optional(query, 'cursor', cursor) };
}
