import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LedgerKeyError,
  LedgerKeys,
  ascendingMs,
  channelFromSegment,
  channelSegment,
  descendingMs,
  descendingSequence,
  parseDescendingMs,
  parseDescendingSequence,
} from '../../shared/ledger/keys';

const keys = new LedgerKeys('_livecycle/');
const channelName = fc.stringMatching(/^[A-Za-z0-9._-]{1,1023}$/);

describe('ledger key encoding', () => {
  it('keeps short names verbatim and hashes ".", ".." and long names', () => {
    expect(channelSegment('cam-1.main_x')).toBe('cam-1.main_x');
    expect(channelFromSegment('cam-1.main_x')).toBe('cam-1.main_x');
    for (const name of ['.', '..', 'a'.repeat(201)]) {
      expect(channelSegment(name)).toMatch(/^~[0-9a-f]{64}$/);
      expect(channelFromSegment(channelSegment(name))).toBeUndefined();
    }
    expect(channelSegment('a'.repeat(200))).toBe('a'.repeat(200));
  });

  it('gives distinct channels distinct segments, each one path segment', () => {
    fc.assert(
      fc.property(channelName, channelName, (a, b) => {
        const sa = channelSegment(a);
        expect(sa).not.toContain('/');
        expect(sa === channelSegment(b)).toBe(a === b);
      }),
    );
  });

  it('rejects names outside the channel alphabet', () => {
    for (const bad of ['', 'a/b', 'a b', 'ü', 'a'.repeat(1024), 'x\n'])
      expect(() => channelSegment(bad)).toThrow(LedgerKeyError);
  });

  it('keeps every key under 1023 bytes for the longest prefix and channel name', () => {
    const long = new LedgerKeys(`${'p'.repeat(127)}/`);
    const name = 'n'.repeat(1023);
    const token = 't'.repeat(128);
    const id = `evt_${'0'.repeat(32)}`;
    const t = 9_999_999_999_999;
    const all = [
      long.channelGeneration(name, t),
      long.push(name, t, 'history', t),
      long.channelMissing(name),
      long.seenLiveAt(name, t),
      long.vodStatus(name, token, 'pending'),
      long.snapshot(name, t),
      long.disable(name, t, t),
      long.tombstone(name, t),
      long.tombstoneCleaned(name, t),
      long.hold(name, token),
      long.cleanupReport(t, token),
      long.cleanupCursor(token),
      long.pollState(token),
      long.event(name, id),
      long.sequenceSlot(name, 9_999_999_999),
      long.sequenceAssignment(name, id),
      long.outboxEntry(id),
      long.delivered(id),
      long.abandoned(id),
      long.cleanupLeases().key(9_999_999_999),
      long.deliveryClaims(id).key(9_999_999_999),
      long.usageRawRecord('2026-12', t, token, token),
      long.usageRollup('2026-12', 9_999_999_999),
      long.storageSnapshot(t, token),
      long.budget(name),
      long.driftAction(token, token),
    ];
    for (const key of all) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1023);
  });

  it('sorts descending timestamps newest first and ascending ones oldest first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_999_999_999_999 }),
        fc.integer({ min: 0, max: 9_999_999_999_999 }),
        (a, b) => {
          fc.pre(a !== b);
          const [older, newer] = a < b ? [a, b] : [b, a];
          expect(descendingMs(newer) < descendingMs(older)).toBe(true);
          expect(ascendingMs(older) < ascendingMs(newer)).toBe(true);
          expect(parseDescendingMs(descendingMs(a))).toBe(a);
        },
      ),
    );
  });

  it('sorts higher sequence numbers first', () => {
    expect(descendingSequence(10) < descendingSequence(9)).toBe(true);
    expect(parseDescendingSequence(descendingSequence(12345))).toBe(12345);
    expect(() => descendingSequence(0)).toThrow(LedgerKeyError);
  });

  it('rejects times and tokens that would break the layout', () => {
    expect(() => descendingMs(-1)).toThrow(LedgerKeyError);
    expect(() => descendingMs(1.5)).toThrow(LedgerKeyError);
    expect(() => keys.hold('cam', '..')).toThrow(LedgerKeyError);
    expect(() => keys.vod('cam', 'a/b')).toThrow(LedgerKeyError);
    expect(() => keys.event('cam', 'not-an-id')).toThrow(LedgerKeyError);
    expect(() => new LedgerKeys('_livecycle')).toThrow(LedgerKeyError);
  });

  it('lays keys out as docs/ledger.md describes', () => {
    const t = 1_700_000_000_000;
    const id = `evt_${'a'.repeat(32)}`;
    expect(keys.channelGeneration('cam', t)).toBe('_livecycle/channels/cam/8299999999999.json');
    expect(keys.push('cam', t, 'stat')).toBe('_livecycle/pushes/cam/1700000000000/stat.json');
    expect(keys.push('cam', t, 'history', t + 5)).toBe(
      '_livecycle/pushes/cam/1700000000000/history-1700000000005.json',
    );
    expect(keys.vodStatus('cam', 'b1', 'ready')).toBe('_livecycle/vods/cam/b1/ready.json');
    expect(keys.snapshot('cam', t)).toBe('_livecycle/snapshots/cam/8299999999999.json');
    expect(keys.disable('cam', t, t + 1)).toBe('_livecycle/disabled/cam/1700000000000-1700000000001.json');
    expect(keys.tombstone('cam', t)).toBe('_livecycle/tombstones/cam/1700000000000.json');
    expect(keys.hold('cam', 'legal')).toBe('_livecycle/holds/cam/legal.json');
    expect(keys.cleanupReport(t, 'run-1')).toBe('_livecycle/cleanup/reports/8299999999999-run-1.json');
    expect(keys.sequenceSlot('cam', 1)).toBe('_livecycle/webhooks/seq/cam/9999999998');
    expect(keys.sequenceSlot(null, 1)).toBe('_livecycle/webhooks/seq/~bucket/9999999998');
    expect(keys.event('cam', id)).toBe(`_livecycle/webhooks/events/cam/${id}.json`);
    expect(keys.cleanupCursor('orphans')).toBe('_livecycle/cleanup/cursors/orphans.json');
    expect(keys.cleanupLeases().key(1)).toBe('_livecycle/cleanup/leases/9999999998.json');
    expect(keys.deliveryClaims(id).key(2)).toBe(`_livecycle/webhooks/claims/${id}/9999999997.json`);
  });

  it('reads a claim number back from its key, and refuses keys of another series', () => {
    const leases = keys.cleanupLeases();
    expect(leases.numberOf(leases.key(42))).toBe(42);
    expect(leases.key(43) < leases.key(42)).toBe(true);
    expect(() => leases.numberOf(`${leases.prefix}9999999957`)).toThrow(LedgerKeyError);
    expect(() => leases.numberOf(keys.cleanupCursor('orphans'))).toThrow(LedgerKeyError);
    expect(() => leases.numberOf(keys.deliveryClaims(`evt_${'a'.repeat(32)}`).key(42))).toThrow(LedgerKeyError);
    expect(() => keys.deliveryClaims('not-an-id')).toThrow(LedgerKeyError);
  });
});
