import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookSecretKey } from '../../shared/webhooks/signature';
import { eventId } from '../../shared/webhooks/webhooks';

const NOW = 1_700_000_000_000;
const ID = `evt_${'1'.repeat(32)}`;
const BODY = '{"id":"evt_1","type":"stream.ended"}';
const NEW = 'whsec_bmV3LXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYg==';
const OLD = 'whsec_b2xkLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYg==';
const OTHER = 'whsec_c29tZS1vdGhlci1zZWNyZXQtMDEyMzQ1Njc4OWFiYw==';

describe('webhook signatures (Standard Webhooks)', () => {
  it('match the reference library on its own test vector', () => {
    // The specification's published example: the standardwebhooks package computes the expectation.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const [id, at, body] = ['msg_p5jXN8AQM9LWM0D4loKWxJek', 1_614_265_330, '{"test": 2432232314}'];
    const ours = signWebhook(id, body, [secret], at * 1000);
    expect(ours).toEqual({
      'webhook-id': id,
      'webhook-timestamp': String(at),
      'webhook-signature': new Webhook(secret).sign(id, new Date(at * 1000), body),
    });
  });

  it('signs with every secret, space-separated, so receivers holding either rotation secret verify', () => {
    const headers = signWebhook(ID, BODY, [NEW, OLD], NOW);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyWebhook(headers, BODY, [NEW], NOW)).toEqual({ ok: true, id: ID, timestamp: 1_700_000_000 });
    expect(verifyWebhook(headers, BODY, [OLD], NOW).ok).toBe(true);
    expect(verifyWebhook(headers, BODY, [OTHER], NOW)).toEqual({
      ok: false,
      reason: 'no signature matches a configured secret',
    });
  });

  it('binds the signature to the id, the body and the timestamp', () => {
    const headers = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook({ ...headers, 'webhook-id': `evt_${'2'.repeat(32)}` }, BODY, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook(headers, `${BODY} `, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook({ ...headers, 'webhook-timestamp': '1700000001' }, BODY, [NEW], NOW).ok).toBe(false);
    expect(verifyWebhook(headers, Buffer.from(BODY), [NEW], NOW).ok).toBe(true);
  });

  it('rejects stale and future timestamps outside the tolerance', () => {
    const headers = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook(headers, BODY, [NEW], NOW + 300_000).ok).toBe(true);
    expect(verifyWebhook(headers, BODY, [NEW], NOW + 301_000)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/tolerance/),
    });
    expect(verifyWebhook(headers, BODY, [NEW], NOW - 301_000).ok).toBe(false);
    expect(verifyWebhook(headers, BODY, [NEW], NOW + 3_000_000, 3600).ok).toBe(true);
  });

  it('explains malformed headers', () => {
    const headers = signWebhook(ID, BODY, [NEW], NOW);
    expect(verifyWebhook({}, BODY, [NEW], NOW)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/webhook-id/),
    });
    expect(
      verifyWebhook({ 'webhook-id': ID, 'webhook-signature': headers['webhook-signature'] }, BODY, [NEW], NOW),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/webhook-timestamp/) });
    expect(verifyWebhook({ ...headers, 'webhook-signature': undefined }, BODY, [NEW], NOW)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/missing webhook-signature/),
    });
    expect(
      verifyWebhook(
        { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') },
        BODY,
        [NEW],
        NOW,
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/no v1/) });
  });

  it('reads a fetch Headers object too', () => {
    expect(verifyWebhook(new Headers({ ...signWebhook(ID, BODY, [NEW], NOW) }), BODY, [NEW], NOW).ok).toBe(true);
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook(ID, BODY, [], NOW)).toThrow(/WEBHOOK_SECRETS/);
  });

  it.each([
    ['no whsec_ prefix', 'bm90LWEtd2hzZWMtc2VjcmV0LTAxMjM0NTY3ODlhYmNk', /whsec_<base64>/],
    ['not base64', 'whsec_not*base64*at*all*0123456789abcdef0123', /not base64/],
    ['a hex string', 'whsec_0123456789abcdef0123456789abcdef0123456789abcdef!', /not base64/],
    ['too short a key', 'whsec_c2hvcnQta2V5', /decodes to 9 bytes; use at least 24/],
  ])('refuses a secret with %s, without echoing it', (_, secret, message) => {
    expect(() => webhookSecretKey(secret)).toThrow(message);
    try {
      webhookSecretKey(secret);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret.slice(6));
    }
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
    expect(eventId('cleanup.completed', 'livecycle-demo', null, 'cam')).not.toBe(
      eventId('cleanup.completed', 'livecycle-demo', 'cam', ''),
    );
  });
});
