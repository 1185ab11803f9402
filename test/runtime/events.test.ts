import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpReply, mnsEvent, resultBytes, timerEvent } from '../../local/runtime/events';

/** fc3's event samples, vendored with their origin (test/fixtures/fc3/README.md). */
const FC3_SAMPLES = join(__dirname, '..', 'fixtures', 'fc3');
const sample = (name: string) => JSON.parse(readFileSync(join(FC3_SAMPLES, name), 'utf8')) as Record<string, unknown>;

/** The shape of a JSON value: same keys and value types, recursively. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .map(([k, x]) => [k, shape(x)])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  return typeof v;
}

const message = {
  messageId: '2F5B3C082B923D4EAC694B76D928AAAA',
  topic: 'test-topic',
  body: 'hello topic',
  publishTime: 1550216480040,
};
const sub = { accountId: '1186202104330000', subscriptionName: 'test-fc-subscribe' };

describe('events match the fc3 samples', () => {
  it('MNS JSON without attributes', () => {
    const event = JSON.parse(mnsEvent('JSON', message, sub).toString()) as Record<string, unknown>;
    expect(shape(event)).toEqual(shape(sample('event-mns-without-MessageAttributes.json')));
  });

  it('MNS JSON with the Extend attribute flattened', () => {
    const event = JSON.parse(
      mnsEvent('JSON', { ...message, attributes: { Extend: '{"key":"value"}' } }, sub).toString(),
    ) as Record<string, unknown>;
    expect(shape(event)).toEqual(shape(sample('event-mns-with-MessageAttributes.json')));
    expect(event.key).toBe('value');
  });

  it('MNS STREAM with attributes', () => {
    expect(
      JSON.parse(mnsEvent('STREAM', { ...message, attributes: { Extend: '{"key":"value"}' } }, sub).toString()),
    ).toEqual(sample('event-mns-stream.json'));
  });
});

describe('events', () => {
  it('timer event: UTC second precision, payload only when configured', () => {
    expect(JSON.parse(timerEvent('t', Date.UTC(2023, 11, 26, 7, 49, 0, 999), 'awesome-fc').toString())).toEqual({
      triggerTime: '2023-12-26T07:49:00Z',
      triggerName: 't',
      payload: 'awesome-fc',
    });
    expect(JSON.parse(timerEvent('t', 0, undefined).toString())).toEqual({
      triggerTime: '1970-01-01T00:00:00Z',
      triggerName: 't',
    });
  });

  it('MNS STREAM without attributes is the raw body; MessageMD5 is upper-case hex MD5 of the body', () => {
    expect(mnsEvent('STREAM', message, sub).toString()).toBe('hello topic');
    expect(JSON.parse(mnsEvent('JSON', message, sub).toString()).MessageMD5).toBe(
      createHash('md5').update('hello topic').digest('hex').toUpperCase(),
    );
  });

  it('result conversion per FC: Buffer raw, object JSON, other values stringified', () => {
    expect(resultBytes(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(resultBytes({ a: 1 }).toString()).toBe('{"a":1}');
    expect(resultBytes(42).toString()).toBe('42');
    expect(resultBytes(undefined).length).toBe(0);
  });

  it('HTTP reply: shaped results honoured, others sent as 200', () => {
    expect(httpReply({ statusCode: 204 }).reply).toEqual({ statusCode: 204, headers: {}, body: Buffer.alloc(0) });
    expect(httpReply({ statusCode: 200, body: 'aGk=', isBase64Encoded: true }).reply.body.toString()).toBe('hi');
    expect(httpReply('text')).toMatchObject({ shaped: false, reply: { statusCode: 200, body: Buffer.from('text') } });
  });
});
