import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors';
import { decodeHttpEvent } from '../../shared/api/event';
import { httpEvent } from './helpers';

const fixture = readFileSync(join(__dirname, 'fixtures', 'event-http.json'));

function decodeError(event: Buffer, maxBodyBytes?: number): ApiError {
  try {
    decodeHttpEvent(event, { maxBodyBytes });
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('decoded without error');
}

function withEvent(patch: (event: Record<string, any>) => void): Buffer {
  const event = JSON.parse(fixture.toString());
  patch(event);
  return Buffer.from(JSON.stringify(event));
}

describe('decodeHttpEvent', () => {
  it('decodes the FC 3.0 HTTP trigger sample shape', () => {
    const request = decodeHttpEvent(fixture);
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/channels/cam-1/vod');
    expect(request.segments).toEqual(['channels', 'cam-1', 'vod']);
    expect(request.query).toEqual({ trace: 'a,b' });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('curl/8.5.0');
    expect(request.headers['x-forwarded-for']).toBe('10.0.0.1,10.0.0.2');
    expect(request.body.toString()).toBe('{"start":"2024-05-01T12:00:00Z","end":"2024-05-01T13:00:00Z"}');
    expect(request.sourceIp).toBe('112.10.236.5');
    expect(request.requestId).toBe('1-64f6cd87-0123456789abcdef');
  });

  it('base64-decodes a binary body', () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x7b]);
    const request = decodeHttpEvent(httpEvent({ body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(request.body.equals(bytes)).toBe(true);
  });

  it('decodes each rawPath segment once, so %2F stays inside its segment', () => {
    const request = decodeHttpEvent(httpEvent({ rawPath: '/channels/a%2Fb/%25%32%46' }));
    expect(request.segments).toEqual(['channels', 'a/b', '%2F']);
  });

  it('ignores a query string left on rawPath (the query comes from queryParameters)', () => {
    expect(decodeHttpEvent(httpEvent({ rawPath: '/channels?x=1' })).segments).toEqual(['channels']);
  });

  it('falls back to the already-decoded requestContext.http.path without decoding again', () => {
    const request = decodeHttpEvent(
      withEvent((e) => {
        delete e.rawPath;
        e.requestContext.http.path = '/channels/100%25';
      }),
    );
    expect(request.segments).toEqual(['channels', '100%25']);
  });

  it('reads a missing body as empty and upper-cases the method', () => {
    const request = decodeHttpEvent(
      withEvent((e) => {
        delete e.body;
        e.requestContext.http.method = 'get';
      }),
    );
    expect(request.body.length).toBe(0);
    expect(request.method).toBe('GET');
  });

  it.each<[string, Buffer, string]>([
    ['not JSON', Buffer.from('{nope'), 'bad_event'],
    ['a JSON array', Buffer.from('[]'), 'bad_event'],
    [
      'no method',
      withEvent((e) => {
        delete e.requestContext.http.method;
      }),
      'bad_event',
    ],
    [
      'a method with symbols',
      withEvent((e) => {
        e.requestContext.http.method = 'GE T';
      }),
      'bad_event',
    ],
    [
      'no path at all',
      withEvent((e) => {
        delete e.rawPath;
        delete e.requestContext.http.path;
      }),
      'bad_event',
    ],
    [
      'a relative path',
      withEvent((e) => {
        e.rawPath = 'channels';
      }),
      'bad_event',
    ],
    [
      'malformed percent-encoding',
      withEvent((e) => {
        e.rawPath = '/channels/%E0%A4%A';
      }),
      'invalid_path',
    ],
    [
      'a non-string header',
      withEvent((e) => {
        e.headers.Accept = 1;
      }),
      'bad_event',
    ],
    [
      'headers as an array',
      withEvent((e) => {
        e.headers = ['a'];
      }),
      'bad_event',
    ],
    [
      'a non-string query value',
      withEvent((e) => {
        e.queryParameters.limit = 5;
      }),
      'bad_event',
    ],
    [
      'a non-string body',
      withEvent((e) => {
        e.body = { a: 1 };
      }),
      'bad_event',
    ],
    [
      'invalid base64',
      withEvent((e) => {
        e.body = 'not base64!';
        e.isBase64Encoded = true;
      }),
      'bad_event',
    ],
    [
      'isBase64Encoded not boolean',
      withEvent((e) => {
        e.isBase64Encoded = 'yes';
      }),
      'bad_event',
    ],
  ])('rejects %s with 400', (_name, event, code) => {
    const err = decodeError(event);
    expect(err.status).toBe(400);
    expect(err.code).toBe(code);
  });

  it('refuses a body over the cap with 413, plain or base64, and accepts one exactly at it', () => {
    expect(decodeHttpEvent(httpEvent({ body: 'x'.repeat(16) }), { maxBodyBytes: 16 }).body.length).toBe(16);
    expect(decodeError(httpEvent({ body: 'x'.repeat(17) }), 16).status).toBe(413);
    expect(decodeError(httpEvent({ body: 'é'.repeat(9) }), 16).status).toBe(413);
    const b64 = (n: number) => httpEvent({ body: Buffer.alloc(n, 7).toString('base64'), isBase64Encoded: true });
    expect(decodeHttpEvent(b64(16), { maxBodyBytes: 16 }).body.length).toBe(16);
    expect(decodeError(b64(17), 16).status).toBe(413);
    expect(decodeError(b64(10_000), 16).code).toBe('payload_too_large');
  });
});
