import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors';
import { decodeHttpEvent } from '../../shared/api/event';
import {
  boolean,
  channelName,
  cursor,
  description,
  fragSettings,
  instant,
  MAX_VOD_SPAN_MS,
  optional,
  fragValue,
  playlistName,
  queryBoolean,
  queryLimit,
  readJsonBody,
  rejectUnknownFields,
  required,
  vodKey,
  vodRange,
  type Validator,
} from '../../shared/api/validate';
import { httpEvent } from './helpers';

function failure(run: () => unknown): ApiError {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('accepted unexpectedly');
}

function accepts<T>(validate: Validator<T>, value: unknown): T {
  return validate(value, 'f');
}

function rejects(validate: Validator<unknown>, value: unknown): void {
  const err = failure(() => validate(value, 'theField'));
  expect([err.status, err.code, err.field]).toEqual([400, 'invalid_field', 'theField']);
  expect(err.message).toMatch(/^theField /);
}

describe('readJsonBody', () => {
  const body = (text: string, contentType = 'application/json') =>
    readJsonBody(decodeHttpEvent(httpEvent({ method: 'POST', body: text, headers: { 'Content-Type': contentType } })));

  it('reads an object, with or without a charset, and an empty body as {}', () => {
    expect(body('{"a":1}')).toEqual({ a: 1 });
    expect(body('{"a":1}', 'Application/JSON; charset=utf-8')).toEqual({ a: 1 });
    expect(body('', 'text/plain')).toEqual({});
  });

  it.each([['{'], ['{"a":1}x'], ['nul\u0000'], ["{'a':1}"]])('answers 400 invalid_json for %j', (text) => {
    expect(failure(() => body(text)).code).toBe('invalid_json');
  });

  it.each([['[]'], ['null'], ['"text"'], ['42']])('answers 400 invalid_json for a non-object %s', (text) => {
    const err = failure(() => body(text));
    expect([err.status, err.code, err.field]).toEqual([400, 'invalid_json', 'body']);
  });

  it('answers 400 for a body that is not UTF-8', () => {
    const request = decodeHttpEvent(
      httpEvent({
        method: 'POST',
        body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'),
        isBase64Encoded: true,
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(failure(() => readJsonBody(request)).code).toBe('invalid_json');
  });

  it('answers 415 for a body that is not declared JSON', () => {
    expect(failure(() => body('{"a":1}', 'text/plain')).status).toBe(415);
    expect(failure(() => body('{"a":1}', 'application/jsonp')).status).toBe(415);
    expect(failure(() => readJsonBody(decodeHttpEvent(httpEvent({ body: '{}' })))).code).toBe('unsupported_media_type');
  });
});

describe('field presence', () => {
  it('names unknown fields, including inherited-looking ones', () => {
    expect(failure(() => rejectUnknownFields({ name: 'a', fragCont: 1 }, ['name'])).field).toBe('fragCont');
    expect(failure(() => rejectUnknownFields(JSON.parse('{"__proto__":{"x":1}}'), ['name'])).code).toBe(
      'unknown_field',
    );
    expect(() => rejectUnknownFields({ name: 'a' }, ['name'])).not.toThrow();
  });

  it('treats absent and null alike and reports a missing required field', () => {
    expect(optional({ a: null }, 'a', boolean)).toBeUndefined();
    expect(optional({}, 'a', boolean)).toBeUndefined();
    const err = failure(() => required({ b: 1 }, 'a', boolean));
    expect([err.code, err.field]).toEqual(['missing_field', 'a']);
    // An inherited property is not a field.
    expect(failure(() => required({}, 'toString', boolean)).code).toBe('missing_field');
  });
});

describe('validators', () => {
  it('channelName', () => {
    for (const ok of ['a', 'Cam-1', '0.x_y-z', 'a'.repeat(128)]) expect(accepts(channelName, ok)).toBe(ok);
    for (const bad of [
      '',
      '_livecycle',
      '-a',
      '.a',
      'a/b',
      'a b',
      'ü',
      'a'.repeat(129),
      'a..b',
      'a..',
      'a...b',
      12,
      null,
    ])
      rejects(channelName, bad);
  });

  it('vodKey accepts only generated VOD playlist names', () => {
    for (const ok of [
      'vod-20240501T120000Z.m3u8',
      'vod-20240501T120000Z-part001.m3u8',
      'vod-20240501T120000Z-part999.m3u8',
    ])
      expect(accepts(vodKey, ok)).toBe(ok);
    const bad = [
      '',
      '.hidden',
      'a/b',
      'a'.repeat(256),
      5,
      // Valid object names livecycle never generates as VODs: custom or live playlists, old shapes.
      'playlist.m3u8',
      'my-clip.m3u8',
      'vod-1714564800-1714568400.m3u8',
      // Near misses: bad time, part number shapes, suffix, something appended.
      'vod-20241301T120000Z.m3u8',
      'vod-20240501T120000Z-part1.m3u8',
      'vod-20240501T120000Z-part000.m3u8',
      'vod-20240501T120000Z.m3u',
      `vod-20240501T120000Z-${'x'.repeat(103)}.m3u8`,
    ];
    for (const value of bad) rejects(vodKey, value);
  });

  it('description is at most 128 bytes of UTF-8 without control characters', () => {
    expect(accepts(description, '')).toBe('');
    expect(accepts(description, 'é'.repeat(64))).toHaveLength(64);
    for (const bad of ['é'.repeat(65), 'a'.repeat(129), 'line\nbreak', 5]) rejects(description, bad);
  });

  it('playlistName ends .m3u8, 6–128 bytes, no slash', () => {
    for (const ok of ['a.m3u8', 'x'.repeat(123) + '.m3u8']) expect(accepts(playlistName, ok)).toBe(ok);
    for (const bad of ['.m3u8', 'x'.repeat(124) + '.m3u8', 'a.m3u', 'a/b.m3u8', 'a\\b.m3u8', 'a\u0000.m3u8', true])
      rejects(playlistName, bad);
  });

  it('boolean accepts only JSON booleans', () => {
    expect(accepts(boolean, false)).toBe(false);
    for (const bad of ['true', 1, 0, {}]) rejects(boolean, bad);
  });

  it('fragDuration and fragCount are integers 1–100, both or neither', () => {
    expect(fragSettings(undefined, undefined)).toBeUndefined();
    expect(fragSettings(1, 100)).toEqual({ fragDuration: 1, fragCount: 100 });
    expect(failure(() => fragSettings(5, undefined)).field).toBe('fragCount');
    expect(failure(() => fragSettings(undefined, 5)).field).toBe('fragDuration');
    expect(accepts(fragValue, 1)).toBe(1);
    expect(accepts(fragValue, 100)).toBe(100);
    for (const bad of [0, 101, 2.5, '5', -1]) rejects(fragValue, bad);
  });

  it('instant reads ISO-8601 with a zone and epoch milliseconds', () => {
    expect(accepts(instant, '2024-05-01T12:00:00Z')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(accepts(instant, '2024-05-01T20:00:00.5+08:00')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 500));
    expect(accepts(instant, '2024-02-29T00:00:00-01:30')).toBe(Date.UTC(2024, 1, 29, 1, 30));
    expect(accepts(instant, 1714564800000)).toBe(1714564800000);
  });

  it.each([
    ['no zone', '2024-05-01T12:00:00'],
    ['date only', '2024-05-01'],
    ['February 30th', '2024-02-30T00:00:00Z'],
    ['February 29th of a common year', '2023-02-29T00:00:00Z'],
    ['hour 24', '2024-05-01T24:00:00Z'],
    ['second 60', '2024-05-01T12:00:60Z'],
    ['offset beyond 14 h', '2024-05-01T12:00:00+15:00'],
    ['epoch seconds', 1714564800],
    ['a fractional number', 1714564800000.5],
    ['NaN-like text', 'NaN'],
    ['an object', {}],
  ])('instant rejects %s', (_name, value) => rejects(instant, value));

  it('vodRange needs end after start and a span of at most 7 days', () => {
    const start = Date.UTC(2024, 4, 1);
    expect(vodRange(start, start + MAX_VOD_SPAN_MS)).toEqual({ startMs: start, endMs: start + MAX_VOD_SPAN_MS });
    expect(failure(() => vodRange(start, start)).field).toBe('end');
    expect(failure(() => vodRange(start, start + MAX_VOD_SPAN_MS + 1)).field).toBe('end');
  });

  it('query limit, cursor and booleans', () => {
    expect(accepts(queryLimit, '1')).toBe(1);
    expect(accepts(queryLimit, '1000')).toBe(1000);
    expect(accepts(cursor, 'opaque==')).toBe('opaque==');
    for (const bad of ['0', '1001', '-1', '1e3', ' 5', '5.0', '', '99999999']) rejects(queryLimit, bad);
    for (const bad of ['', 'x'.repeat(1025), 'a\nb']) rejects(cursor, bad);
    expect(accepts(queryBoolean, 'true')).toBe(true);
    expect(accepts(queryBoolean, 'false')).toBe(false);
    for (const bad of ['1', 'TRUE', 'yes', '']) rejects(queryBoolean, bad);
  });
});
