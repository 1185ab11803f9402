/**
 * renderXml (local/emulator/live/xml.ts) is a fast path for fast-xml-parser's XMLBuilder: the
 * LiveChannel responses must stay byte for byte what the builder wrote before.
 */
import fc from 'fast-check';
import { XMLBuilder } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderXml } from '../../local/emulator/live/xml';

const builder = new XMLBuilder({ format: true, indentBy: '  ' });
const reference = (root: string, content: unknown) => builder.build({ [root]: content }) as string;

const name = fc.constantFrom('Status', 'Name', 'LiveChannel', 'Url', 'A', 'b_c', 'x.y', 'Z-1');
const text = fc.oneof(fc.string(), fc.constantFrom('', '&amp;', '<a>', '"\'', ' sp ', '\u0001', '&#x41;'));
const leafValue = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(-0),
  fc.constant(undefined),
  fc.constant(null),
);

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafValue, tie('object'), tie('array')),
  object: fc.dictionary(name, tie('tree'), { maxKeys: 5 }),
  // What the fast path covers in lists: objects and primitives (null items and nested lists fall back).
  array: fc.array(
    fc.oneof(fc.dictionary(name, tie('tree'), { maxKeys: 4 }), text, fc.integer(), fc.constant(undefined)),
    { maxLength: 4 },
  ),
}));

describe('renderXml', () => {
  it('writes what XMLBuilder writes, on random documents', () => {
    fc.assert(
      fc.property(name, tree, (root, content) => {
        expect(renderXml(root, content)).toBe(reference(root, content));
      }),
      { numRuns: 2000 },
    );
  });

  it('hands shapes outside its fast path to the builder', () => {
    const cases: [string, unknown][] = [
      ['R', { '#text': 't' }],
      ['R', { '@_a': 'x', B: 1 }],
      ['R', { A: [null, { B: 1 }, null] }],
      ['R', { A: [[1, 2]] }],
      ['R', { When: new Date(0) }],
      ['?xml', { A: 1 }],
    ];
    for (const [root, content] of cases) expect(renderXml(root, content)).toBe(reference(root, content));
  });

  it('renders the LiveChannel shapes', () => {
    const stat = {
      Status: 'Live',
      ConnectedTime: '2016-08-25T06:25:15.000Z',
      RemoteAddr: '10.1.2.3:47745',
      Video: { Width: 1280, Height: 720, FrameRate: 25, Bandwidth: 0, Codec: 'H264' },
    };
    expect(renderXml('LiveChannelStat', stat)).toBe(reference('LiveChannelStat', stat));
    expect(renderXml('LiveChannelHistory', { LiveRecord: [] })).toBe('<LiveChannelHistory></LiveChannelHistory>\n');
  });
});
