/**
 * ChannelStore.page (ListLiveChannel's prefix/marker/max-keys selection) against the naive
 * model it replaced — filter every name, then slice — through creates and deletes, since the
 * sorted names are cached between them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelStore, type ChannelRecord } from '../../local/emulator/live/store';
import { MemoryStateStore } from '../../local/emulator/storage/memory';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function record(bucket: string, name: string): ChannelRecord {
  return { bucket, name, config: {} as ChannelRecord['config'], lastModified: 0, history: [], nextFragmentNumber: 0 };
}

/** Short names over a small alphabet (so prefixes and markers hit), with non-ASCII and astral characters. */
const name = fc.string({
  unit: fc.constantFrom('a', 'b', 'ab', '-', '.', 'é', '\uE000', '😀'),
  minLength: 1,
  maxLength: 4,
});
const step = fc.oneof(
  fc.record({ op: fc.constant('put' as const), name }),
  fc.record({ op: fc.constant('delete' as const), name }),
  fc.record({
    op: fc.constant('page' as const),
    prefix: fc.oneof(fc.constant(''), name),
    marker: fc.oneof(fc.constant(''), name),
    maxKeys: fc.integer({ min: 1, max: 6 }),
  }),
);

describe('ChannelStore.page', () => {
  it('selects what filtering every name would, through creates and deletes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const store = new ChannelStore(new MemoryStateStore());
        const model = new Set<string>();
        for (const s of steps) {
          if (s.op === 'put') {
            await store.modify('b', s.name, () => ({ record: record('b', s.name), result: undefined }));
            model.add(s.name);
          } else if (s.op === 'delete') {
            await store.modify('b', s.name, (current) => ({ record: current ? null : undefined, result: undefined }));
            model.delete(s.name);
          } else {
            const matching = [...model]
              .sort(utf8Order)
              .filter((n) => n.startsWith(s.prefix) && utf8Order(n, s.marker) > 0);
            expect(await store.page('b', s.prefix, s.marker, s.maxKeys)).toEqual({
              names: matching.slice(0, s.maxKeys),
              truncated: matching.length > s.maxKeys,
            });
          }
        }
        // Other buckets' channels never show.
        expect((await store.page('other', '', '', 1000)).names).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
