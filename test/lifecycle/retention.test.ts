import { describe, expect, it } from 'vitest';
import { vodRetention, type VodObject } from '../../shared/lifecycle/retention';

const NOW = Date.parse('2024-05-10T00:00:00.000Z');
const DAY = 86_400_000;
const vod = (key: string, ageMs: number, held = false): VodObject => ({ key, createdAt: NOW - ageMs, held });
const decide = (vods: VodObject[], retentionDays = 7, skewToleranceMs = 0) =>
  vodRetention({ vods, now: NOW, retentionDays, skewToleranceMs }).map((d) => [d.key, d.action, d.reason]);

describe('vodRetention', () => {
  it.each<[string, VodObject, number, string, string]>([
    ['7 days − 1 s old', vod('c/vod-20240501T100000Z.m3u8', 7 * DAY - 1000), 7, 'keep', 'within-retention'],
    ['exactly 7 days old', vod('c/vod-20240501T100000Z.m3u8', 7 * DAY), 7, 'delete', 'expired'],
    ['7 days + 1 s old', vod('c/vod-20240501T100000Z.m3u8', 7 * DAY + 1000), 7, 'delete', 'expired'],
    ['held, a year old', vod('c/vod-20240501T100000Z.m3u8', 365 * DAY, true), 7, 'keep', 'held'],
    ['retention 0 keeps forever', vod('c/vod-20240501T100000Z.m3u8', 3650 * DAY), 0, 'keep', 'retention-disabled'],
    ['not a VOD playlist name', vod('c/playlist.m3u8', 365 * DAY), 7, 'keep', 'not-vod-playlist'],
    ['no channel folder', vod('vod-20240501T100000Z.m3u8', 365 * DAY), 7, 'keep', 'not-vod-playlist'],
  ])('%s → %s', (_, object, days, action, reason) => {
    expect(decide([object], days)).toEqual([[object.key, action, reason]]);
  });

  it('allows for our clock running ahead of OSS', () => {
    const object = vod('c/vod-20240501T100000Z.m3u8', 7 * DAY);
    expect(decide([object], 7, 5000)).toEqual([[object.key, 'keep', 'within-retention']]);
  });

  it('a broadcast’s parent and parts go together: one hold pins all, the newest sets the age', () => {
    const parent = vod('c/vod-20240501T100000Z.m3u8', 8 * DAY);
    const part1 = vod('c/vod-20240501T100000Z-part001.m3u8', 8 * DAY);
    const heldPart2 = vod('c/vod-20240501T100000Z-part002.m3u8', 8 * DAY, true);
    expect(decide([parent, part1, heldPart2]).map(([, action, reason]) => `${action}:${reason}`)).toEqual([
      'keep:held',
      'keep:held',
      'keep:held',
    ]);

    const youngPart2 = vod('c/vod-20240501T100000Z-part002.m3u8', 6 * DAY);
    expect(decide([parent, part1, youngPart2]).map(([, action]) => action)).toEqual(['keep', 'keep', 'keep']);
  });

  it('the same broadcast id on two channels are separate groups', () => {
    const held = vod('a/vod-20240501T100000Z.m3u8', 8 * DAY, true);
    const free = vod('b/vod-20240501T100000Z.m3u8', 8 * DAY);
    expect(decide([held, free])).toEqual([
      [free.key, 'delete', 'expired'],
      [held.key, 'keep', 'held'],
    ]);
  });

  it('lists deletions first, oldest first', () => {
    const keep = vod('c/vod-20240509T000000Z.m3u8', DAY);
    const old = vod('c/vod-20240401T000000Z.m3u8', 40 * DAY);
    const older = vod('c/vod-20240301T000000Z.m3u8', 70 * DAY);
    expect(decide([keep, old, older]).map(([key]) => key)).toEqual([older.key, old.key, keep.key]);
  });

  it('refuses a negative retention', () => {
    expect(() => vodRetention({ vods: [], now: NOW, retentionDays: -1 })).toThrow(RangeError);
  });
});
