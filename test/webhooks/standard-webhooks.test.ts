/**
 * Real deliveries of the local stack (api function → emulator ledger → HTTP receiver), verified
 * with the Standard Webhooks reference library itself, as an integrator's receiver would. The
 * library reads the wall clock; it is pinned to the stack's controlled clock while verifying.
 */
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, startStack, type Delivery, type Stack } from '../reliability/harness';

const NEW = 'whsec_bmV3LXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldC0wMQ==';
const OLD = 'whsec_b2xkLXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldC0wMQ==';
const UNRELATED = 'whsec_dW5yZWxhdGVkLXdlYmhvb2tzLXNlY3JldC0wMTIzNDU=';

let stack: Stack | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await stack?.stop();
  stack = undefined;
});

/** Creates a channel through the api and returns the channel.created delivery. */
async function channelCreatedDelivery(secrets: string): Promise<Delivery> {
  stack = await startStack({ env: { WEBHOOK_SECRETS: secrets, LOG_LEVEL: 'silent' } });
  expect((await api(stack, { method: 'POST', path: '/channels', body: { name: 'std-hooks' } })).status).toBe(201);
  const delivery = stack.receiver!.deliveries.find((d) => d.type === 'channel.created');
  expect(delivery).toBeDefined();
  return delivery!;
}

function verifyAt(nowMs: number, secret: string, delivery: Delivery, body = delivery.body): unknown {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(nowMs);
  try {
    return new Webhook(secret).verify(body, delivery.headers as Record<string, string>);
  } finally {
    vi.useRealTimers();
  }
}

describe('Standard Webhooks: deliveries verify with the standardwebhooks package', () => {
  it('accepts a good delivery, and rejects a tampered body, a stale timestamp and another secret', async () => {
    const delivery = await channelCreatedDelivery(NEW);
    const sentAt = stack!.clock.now();
    expect(delivery.headers['webhook-id']).toBe(delivery.id);
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(delivery.headers['x-livecycle-signature']).toBeUndefined();

    expect(verifyAt(sentAt, NEW, delivery)).toMatchObject({
      id: delivery.id,
      type: 'channel.created',
      channel: 'std-hooks',
    });
    expect(() => verifyAt(sentAt, NEW, delivery, delivery.body.replace('"std-hooks"', '"std-hookz"'))).toThrow(
      /No matching signature/,
    );
    expect(() => verifyAt(sentAt + 301_000, NEW, delivery)).toThrow(/too old/);
    expect(() => verifyAt(sentAt, UNRELATED, delivery)).toThrow(/No matching signature/);
  });

  it('during a rotation, a receiver holding either the new or the old secret verifies', async () => {
    const delivery = await channelCreatedDelivery(`${NEW},${OLD}`);
    const sentAt = stack!.clock.now();
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyAt(sentAt, NEW, delivery)).toMatchObject({ id: delivery.id });
    expect(verifyAt(sentAt, OLD, delivery)).toMatchObject({ id: delivery.id });
    expect(() => verifyAt(sentAt, UNRELATED, delivery)).toThrow(/No matching signature/);
  });
});
