import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors';
import { decodeHttpEvent } from '../../shared/api/event';
import { json } from '../../shared/api/respond';
import { createRouter, type Route } from '../../shared/api/router';
import { httpEvent } from './helpers';

const route = (method: string, pattern: string): Route => ({
  method,
  pattern,
  handle: async () => json(200, { pattern }),
});

const router = createRouter([
  route('POST', '/channels'),
  route('GET', '/channels'),
  route('GET', '/channels/{name}'),
  route('DELETE', '/channels/{name}'),
  route('POST', '/channels/{name}/enable'),
  route('POST', '/channels/{name}/vods/{key}/hold'),
  route('DELETE', '/channels/{name}/vods/{key}/hold'),
  route('GET', '/cleanup/report'),
]);

function segments(rawPath: string): string[] {
  return decodeHttpEvent(httpEvent({ rawPath })).segments;
}

function matchError(method: string, rawPath: string): ApiError {
  try {
    router.match(method, segments(rawPath));
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('matched unexpectedly');
}

describe('router', () => {
  it('matches literal routes by method', () => {
    expect(router.match('GET', segments('/channels')).route.pattern).toBe('/channels');
    expect(router.match('POST', segments('/channels')).route.method).toBe('POST');
    expect(router.match('GET', segments('/cleanup/report')).params).toEqual({});
  });

  it('extracts parameters, percent-decoded exactly once', () => {
    expect(router.match('POST', segments('/channels/cam%2D1/vods/vod-1.m3u8/hold')).params).toEqual({
      name: 'cam-1',
      key: 'vod-1.m3u8',
    });
    // %2541 decodes once to the literal text %41, not to A.
    expect(router.match('GET', segments('/channels/%2541')).params).toEqual({ name: '%41' });
  });

  it.each([
    ['/nothing'],
    ['/channels/cam-1/unknown'],
    ['/channels/cam-1/enable/extra'],
    ['/channels/'],
    ['/channels//enable'],
    ['/Channels'],
    ['/'],
  ])('answers 404 for %s', (path) => {
    const err = matchError('GET', path);
    expect([err.status, err.code]).toEqual([404, 'not_found']);
  });

  it('answers 405 with Allow listing the methods the path supports', () => {
    const err = matchError('PUT', '/channels/cam-1');
    expect([err.status, err.code]).toEqual([405, 'method_not_allowed']);
    expect(err.headers?.Allow).toBe('GET, DELETE');
    expect(matchError('GET', '/channels/cam-1/enable').headers?.Allow).toBe('POST');
    expect(matchError('PATCH', '/channels').headers?.Allow).toBe('POST, GET');
  });

  it.each([
    ['an encoded slash', '/channels/a%2Fb', 'name'],
    ['an encoded lower-case slash', '/channels/a%2fb/enable', 'name'],
    ['an encoded backslash', '/channels/a%5Cb', 'name'],
    ['a literal dot-dot', '/channels/..', 'name'],
    ['an encoded dot-dot', '/channels/%2E%2E', 'name'],
    ['dot-dot inside a name', '/channels/a..b', 'name'],
    ['dot-dot in the key', '/channels/cam-1/vods/..%2F..%2Fsecret/hold', 'key'],
    ['a NUL', '/channels/a%00b', 'name'],
    ['a newline', '/channels/a%0Ab', 'name'],
    ['DEL', '/channels/a%7F', 'name'],
    ['a C1 control', '/channels/a%C2%85', 'name'],
  ])('answers 400 for a parameter with %s', (_name, path, field) => {
    const method = path.endsWith('/hold') ? 'POST' : path.endsWith('/enable') ? 'POST' : 'GET';
    const err = matchError(method, path);
    expect([err.status, err.code, err.field]).toEqual([400, 'invalid_path_param', field]);
  });

  it('refuses a duplicate route and a pattern without a leading slash', () => {
    expect(() => createRouter([route('GET', '/a'), route('GET', '/a')])).toThrow(/duplicate route/);
    expect(() => createRouter([route('GET', 'a')])).toThrow(/must start with/);
  });
});
