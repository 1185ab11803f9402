import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../shared/webhooks/signature';
import { eventId } from '../../shared/webhooks/webhooks';

const NOW = 1_700_000_000_000;
const ID = `evt_${'1'.repeat(32)}`;
const BODY = '{"id":"evt_1","type":"stream.ended"}';
const NEW = 'new-webhook-secret-0123';
const OLD = 'old-webhook-secret-0123';

function headersFor(signature: string, id = ID) {
  return { 'X-Livecycle-Event-Id': id, 'X-Livecycle-Signature': signature };
}

describe('webhook signatures', () => {
  it('signs with every secret, so receivers holding either rotation secret verify', () => {
    const sig = signWebhook(ID, BODY, [NEW, OLD], NOW);
    expect(sig).toMatch(/^t=1700000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(headersFor(sig), BODY, [NEW], NOW)).toEqual({ ok: true, id: ID, timestamp: 1_700_000_000 });
    expect(verifyWebhook(headersFor(sig), BODY, [OLD], NOW).ok).toBe(true);
    expect(verifyWebhook(headersFor(sig), BODY, ['some-other-secret-0123'], NOW)).toEqual({ ok: false, reason: 'no signature matches a configured secret' });
  });

  it('binds the signature to the id, the body and the timestamp', () => {
    const sig = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook(headersFor(sig, `evt_${'2'.repeat(32)}`), BODY, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook(headersFor(sig), `${BODY} `, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook(headersFor(sig.replace('t=1700000000', 't=1700000001')), BODY, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook(headersFor(sig), Buffer.from(BODY), [NEW], NOW).ok).toBe(true);
  });

  it('rejects stale and future timestamps outside the tolerance', () => {
    const sig = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook(headersFor(sig), BODY, [NEW], NOW + 300_000).ok).toBe(true);
    expect(verifyWebhook(headersFor(sig), BODY, [NEW], NOW + 301_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/tolerance/) });
    expect(verifyWebhook(headersFor(sig), BODY, [NEW], NOW - 301_000).ok).toBe(false);
    expect(verifyWebhook(headersFor(sig), BODY, [NEW], NOW + 3_000_000, 3600).ok).toBe(true);
  });

  it('explains malformed headers', () => {
    expect(verifyWebhook({}, BODY, [NEW], NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/event-id/) });
    expect(verifyWebhook({ 'x-livecycle-event-id': ID }, BODY, [NEW], NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature header/) });
    expect(verifyWebhook(headersFor('v1=abc'), BODY, [NEW], NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/t=/) });
    expect(verifyWebhook(headersFor('t=1700000000'), BODY, [NEW], NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/v1=/) });
  });

  it('reads a fetch Headers object too', () => {
    const sig = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook(new Headers(headersFor(sig)), BODY, [NEW], NOW).ok).toBe(true);
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook(ID, BODY, [], NOW)).toThrow(/WEBHOOK_SECRETS/);
  });
});

describe('event ids', () => {
  it('are stable for the same fact and differ for any other', () => {
    const id = eventId('stream.ended', 'livecycle-demo', 'cam', 'b-1700000000000');
    expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(eventId('stream.ended', 'livecycle-demo', 'cam', 'b-1700000000000')).toBe(id);
    expect(eventId('stream.started', 'livecycle-demo', 'cam', 'b-1700000000000')).not.toBe(id);
    expect(eventId('stream.ended', 'other-bucket', 'cam', 'b-1700000000000')).not.toBe(id);
    expect(eventId('stream.ended', 'livecycle-demo', 'cam2', 'b-1700000000000')).not.toBe(id);
    expect(eventId('stream.ended', 'livecycle-demo', 'cam', 'b-1700000000001')).not.toBe(id);
    expect(eventId('cleanup.completed', 'livecycle-demo', null, 'cam')).not.toBe(eventId('cleanup.completed', 'livecycle-demo', 'cam', ''));
  });
});
