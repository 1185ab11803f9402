import { describe, expect, it } from 'vitest';
import {
  OssError,
  OssNetworkError,
  OssProtocolError,
  OssTimeoutError,
  OssValidationError,
} from '../../shared/oss/errors';
import { backoffDelayMs, DEFAULT_RETRY, isRetryableError } from '../../shared/oss/retry';
import {
  validateChannelName,
  validatePlaylistName,
  validatePutLiveChannelInput,
  validateVodWindow,
} from '../../shared/oss/validate';
import type { PutLiveChannelInput } from '../../shared/oss/types';

function fieldOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OssValidationError);
    return (err as OssValidationError).field;
  }
  throw new Error('expected an OssValidationError');
}

describe('channel names', () => {
  it('accepts what OSS accepts, including spaces', () => {
    for (const name of ['a', 'live channel 2', 'x'.repeat(1023), 'ä-ö'])
      expect(() => validateChannelName(name)).not.toThrow();
  });

  it.each([[''], ['a/b'], ['/a'], ['\\a'], ['x'.repeat(1024)], ['é'.repeat(512)]])('rejects %j', (name) => {
    expect(fieldOf(() => validateChannelName(name))).toBe('channel');
  });
});

describe('PutLiveChannel input', () => {
  const bad: [string, PutLiveChannelInput, string][] = [
    ['description too long', { description: 'x'.repeat(129) }, 'description'],
    ['status', { status: 'paused' as never }, 'status'],
    ['fragDuration alone', { target: { fragDuration: 5 } }, 'target.fragCount'],
    ['fragCount alone', { target: { fragCount: 3 } }, 'target.fragDuration'],
    ['fragDuration 0', { target: { fragDuration: 0, fragCount: 3 } }, 'target.fragDuration'],
    ['fragDuration 200', { target: { fragDuration: 200, fragCount: 3 } }, 'target.fragDuration'],
    ['fragCount 199', { target: { fragDuration: 5, fragCount: 199 } }, 'target.fragCount'],
    ['fragCount 2.5', { target: { fragDuration: 5, fragCount: 2.5 } }, 'target.fragCount'],
    ['playlist without .m3u8', { target: { playlistName: 'playlist.ts' } }, 'target.playlistName'],
    ['playlist with /', { target: { playlistName: 'a/b.m3u8' } }, 'target.playlistName'],
    ['playlist too short', { target: { playlistName: '.m3u8' } }, 'target.playlistName'],
    ['playlist too long', { target: { playlistName: `${'p'.repeat(124)}.m3u8` } }, 'target.playlistName'],
    [
      'snapshot bucket',
      { snapshot: { roleName: 'r', destBucket: 'Bad_Bucket', notifyTopic: 't', interval: 1 } },
      'snapshot.destBucket',
    ],
    [
      'snapshot interval',
      { snapshot: { roleName: 'r', destBucket: 'dest', notifyTopic: 't', interval: 101 } },
      'snapshot.interval',
    ],
  ];
  it.each(bad)('%s', (_label, input, field) => {
    expect(fieldOf(() => validatePutLiveChannelInput(input))).toBe(field);
  });

  it('accepts the boundaries', () => {
    expect(() =>
      validatePutLiveChannelInput({
        description: 'x'.repeat(128),
        status: 'disabled',
        target: { fragDuration: 1, fragCount: 100, playlistName: `${'p'.repeat(123)}.m3u8` },
      }),
    ).not.toThrow();
    expect(() => validatePlaylistName('a.m3u8')).not.toThrow();
  });
});

describe('VOD window (Unix seconds)', () => {
  it('accepts a window of exactly one day', () => {
    expect(() => validateVodWindow({ startTime: 1_700_000_000, endTime: 1_700_086_400 })).not.toThrow();
  });

  it.each([
    ['end before start', { startTime: 100, endTime: 50 }, 'endTime'],
    ['empty window', { startTime: 100, endTime: 100 }, 'endTime'],
    ['longer than a day', { startTime: 0, endTime: 86_401 }, 'endTime'],
    ['milliseconds passed by mistake', { startTime: 1_700_000_000_000, endTime: 1_700_000_001_000 }, 'startTime'],
    ['fractional', { startTime: 1.5, endTime: 10 }, 'startTime'],
  ])('%s', (_label, window, field) => {
    expect(fieldOf(() => validateVodWindow(window))).toBe(field);
  });
});

describe('retry classification', () => {
  const oss = (status: number, code: string) => new OssError('Op', { status, code, message: 'm' });
  it.each([
    [oss(500, 'InternalError'), true],
    [oss(503, 'MetaOperationQpsLimitExceeded'), true],
    [oss(503, 'ServiceUnavailable'), true],
    [oss(429, 'TooManyRequests'), true],
    [new OssNetworkError('Op', 'ECONNRESET', 'reset'), true],
    [new OssTimeoutError('Op', 'headers', 10), true],
    [new OssTimeoutError('Op', 'deadline', 10), false],
    [oss(404, 'NoSuchLiveChannel'), false],
    [oss(403, 'SignatureDoesNotMatch'), false],
    [oss(409, 'ChannelStillLive'), false],
    [new OssProtocolError('Op', 200, 'bad xml'), false],
    [new OssValidationError('f', 'bad'), false],
    [new TypeError('bug'), false],
  ])('%s → %s', (err, retryable) => {
    expect(isRetryableError(err)).toBe(retryable);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const opts = { ...DEFAULT_RETRY, baseMs: 200, capMs: 1000 };
    expect(backoffDelayMs(1, opts, () => 0.999999)).toBe(199);
    expect(backoffDelayMs(2, opts, () => 0.999999)).toBe(399);
    expect(backoffDelayMs(5, opts, () => 0.999999)).toBe(999);
    expect(backoffDelayMs(3, opts, () => 0)).toBe(0);
  });
});

describe('error messages', () => {
  it('carry the operation, status, code and request id', () => {
    const err = new OssError('GetLiveChannelStat', {
      status: 404,
      code: 'NoSuchLiveChannel',
      message: 'gone',
      requestId: 'RID',
    });
    expect(err.message).toBe('GetLiveChannelStat failed: 404 NoSuchLiveChannel: gone (request RID)');
  });
});
