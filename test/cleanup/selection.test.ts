import { describe, expect, it } from 'vitest';
import {
  bucketHosts,
  channelInScope,
  channelOfFolder,
  holdScope,
  parseCursor,
  startAfterFolder,
} from '../../shared/cleanup';
import type { HoldRecord } from '../../shared/ledger';
import { classifyFragment, type FragmentInput } from '../../shared/lifecycle';

const NOW = Date.parse('2024-05-10T00:00:00.000Z');
const H = 3_600_000;

describe('channelOfFolder', () => {
  it.each([
    ['cam-1/', '_livecycle/', 'cam-1'],
    ['a.b_c-9/', '_livecycle/', 'a.b_c-9'],
    ['_livecycle/', '_livecycle/', undefined],
    ['ops/', 'ops/_livecycle/', undefined],
    ['ops/', '_livecycle/', 'ops'],
    ['my photos/', '_livecycle/', undefined],
    ['../', '_livecycle/', undefined],
    ['cam-1', '_livecycle/', undefined],
  ])('%s (ledger %s) → %s', (folder, ledger, channel) => {
    expect(channelOfFolder(folder, ledger)).toBe(channel);
  });
});

describe('channelInScope', () => {
  it.each([
    ['prefix matches', 'cam-1', ['cam-'], false, true],
    ['prefix must start the name', 'x-cam-1', ['cam-'], false, false],
    ['no prefixes, unknown channel: untouchable', 'cam-1', [], false, false],
    ['no prefixes, livecycle created or deleted it', 'cam-1', [], true, true],
    ["'' (from *) is every channel", 'anything', [''], false, true],
  ])('%s', (_, channel, channelPrefixes, knownToLedger, expected) => {
    expect(channelInScope(channel, { channelPrefixes, knownToLedger })).toBe(expected);
  });
});

describe('holdScope', () => {
  const hold = (holdId: string, until?: number): HoldRecord => ({
    v: 1,
    channel: 'cam',
    holdId,
    reason: 'r',
    setAt: NOW - H,
    ...(until === undefined ? {} : { until }),
  });
  const files = new Set(['vod-a.m3u8', 'vod-b.m3u8', 'playlist.m3u8']);

  it.each<[string, HoldRecord[], string[], boolean]>([
    ['no holds', [], [], false],
    ['a hold naming a stored playlist pins that playlist only', [hold('vod-a.m3u8')], ['vod-a.m3u8'], false],
    ['a hold until later is in force', [hold('vod-b.m3u8', NOW + 1)], ['vod-b.m3u8'], false],
    ['a hold that lapsed exactly now pins nothing', [hold('vod-b.m3u8', NOW)], [], false],
    ['a hold naming no stored playlist pins the whole channel', [hold('legal-2024')], [], true],
    ['a lapsed channel-wide hold pins nothing', [hold('legal-2024', NOW - 1000)], [], false],
    ['both kinds', [hold('vod-a.m3u8'), hold('vod-gone.m3u8')], ['vod-a.m3u8'], true],
  ])('%s', (_, holds, heldPlaylists, channelPinned) => {
    const scope = holdScope(holds, files, NOW);
    expect([...scope.heldPlaylists].sort()).toEqual(heldPlaylists);
    expect(scope.channelPinned).toBe(channelPinned);
  });
});

describe('startAfterFolder', () => {
  it('resumes a delimiter listing right after a folder, before every later folder', () => {
    const folders = ['cam-1-x/', 'cam-1.x/', 'cam-1/', 'cam-10/', 'cam-1a/'];
    const after = startAfterFolder('cam-1/');
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    expect([...folders].sort(cmp)).toEqual(folders);
    // Every key under cam-1/ (any byte after the slash) sorts before; the later folders after.
    for (const key of ['cam-1/', 'cam-1/0000000000001.ts', 'cam-1/\u00ff\u00ff.ts', 'cam-1/~'])
      expect(cmp(key, after), key).toBeLessThan(0);
    for (const folder of ['cam-10/', 'cam-1a/']) expect(cmp(folder, after), folder).toBeGreaterThan(0);
  });
});

describe('bucketHosts', () => {
  it.each([
    [
      'oss-cn-hangzhou-internal.aliyuncs.com',
      ['b.oss-cn-hangzhou-internal.aliyuncs.com', 'b.oss-cn-hangzhou.aliyuncs.com'],
    ],
    ['https://oss-cn-hangzhou.aliyuncs.com', ['b.oss-cn-hangzhou.aliyuncs.com']],
    ['http://127.0.0.1:9000', ['b.127.0.0.1:9000']],
  ])('%s', (endpoint, hosts) => {
    expect(bucketHosts('b', endpoint)).toEqual(hosts);
  });
});

describe('parseCursor', () => {
  it.each([
    [undefined, undefined],
    ['{"folder":"cam-1/"}', { folder: 'cam-1/' }],
    ['{"folder":"cam-1/","startAfter":"cam-1/0001.ts"}', { folder: 'cam-1/', startAfter: 'cam-1/0001.ts' }],
    ['{"folder":"cam-1"}', undefined],
    ['not json', undefined],
    ['{"folder":"cam-1/","startAfter":5}', undefined],
  ])('%s', (text, cursor) => {
    expect(parseCursor(text)).toEqual(cursor);
  });
});

describe('classifyFragment: pins', () => {
  const base: FragmentInput = {
    key: 'cam-1/1.ts',
    lastModified: NOW - 48 * H,
    channelState: 'tombstoned',
    lives: [{ to: NOW - 25 * H }],
    referenced: false,
    now: NOW,
    skewToleranceMs: 0,
    scope: { channelPrefixes: ['cam-'] },
  };

  it.each<[string, Partial<FragmentInput>, 'delete' | 'keep', string]>([
    ['a channel-wide hold keeps an orphan', { pinned: 'held' }, 'keep', 'held'],
    ['an unreadable playlist keeps an orphan', { pinned: 'unreadable-playlist' }, 'keep', 'unreadable-playlist'],
    ['a live channel is reported live, not held', { pinned: 'held', channelState: 'live' }, 'keep', 'channel-live'],
    [
      'a pin never makes a key outside the prefixes a candidate',
      { pinned: 'held', key: 'other/1.ts' },
      'keep',
      'not-ingest-output',
    ],
    [
      'absent 24 h + 1 s, pinned: kept',
      { pinned: 'held', channelState: 'absent', channelGoneSince: NOW - 24 * H - 1000 },
      'keep',
      'held',
    ],
    [
      'recreated channel, same name: exists wins over an old tombstone',
      { channelState: 'exists', pinned: undefined },
      'keep',
      'channel-exists',
    ],
    ['no pin: orphan', {}, 'delete', 'orphan'],
  ])('%s', (_, overrides, action, reason) => {
    expect(classifyFragment({ ...base, ...overrides })).toEqual({ action, reason });
  });
});
