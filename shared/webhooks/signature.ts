/**
 * Webhook signatures, as the Standard Webhooks specification (standardwebhooks.com) defines them,
 * so receivers verify with its libraries (`standardwebhooks`, `svix`, their Python/Go ports):
 *   webhook-id:        the event id
 *   webhook-timestamp: unix seconds of the attempt
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>[ v1,<…>…]
 * one space-separated signature per configured secret, so a receiver that knows either the old or
 * the new secret verifies during a rotation. Secrets are written `whsec_<base64 of the key>`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** Not part of the specification: lets a receiver route before parsing the body. */
export const EVENT_TYPE_HEADER = 'x-livecycle-event-type';
/** Default allowed difference between the signature time and the receiver's clock (the specification's 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = 'whsec_';
/** The specification recommends keys of 24 to 64 random bytes; fewer is refused. */
const MIN_SECRET_BYTES = 24;

/**
 * The HMAC key of a `whsec_<base64>` secret. Throws an error that describes the problem, never
 * the secret (config errors are logged).
 */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX))
    throw new Error(`is not a Standard Webhooks secret: it must be written ${SECRET_PREFIX}<base64>`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // Node decodes leniently; a round trip catches characters outside the base64 alphabet.
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ||
    key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')
  ) {
    throw new Error(`is not a Standard Webhooks secret: the part after ${SECRET_PREFIX} is not base64`);
  }
  if (key.length < MIN_SECRET_BYTES)
    throw new Error(`decodes to ${key.length} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
  return key;
}

/** A fresh secret in the `whsec_<base64>` form (32 random bytes). */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

function hmac(key: Buffer, id: string, timestamp: number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

export type WebhookSignatureHeaders = {
  [WEBHOOK_ID_HEADER]: string;
  [WEBHOOK_TIMESTAMP_HEADER]: string;
  [WEBHOOK_SIGNATURE_HEADER]: string;
};

/** The signature headers for `body` of event `id`, signed at `nowMs` with every secret. */
export function signWebhook(
  id: string,
  body: string | Buffer,
  secrets: readonly string[],
  nowMs: number,
): WebhookSignatureHeaders {
  if (secrets.length === 0) throw new Error('cannot sign a webhook without a secret (WEBHOOK_SECRETS is empty)');
  const timestamp = Math.floor(nowMs / 1000);
  const signatures = secrets.map((s) => `v1,${hmac(webhookSecretKey(s), id, timestamp, body).toString('base64')}`);
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signatures.join(' '),
  };
}

export type VerifyResult = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v;
  return undefined;
}

/**
 * Checks a delivery as a Standard Webhooks receiver does, on an injected clock (the libraries read
 * the wall clock, which the local stack's accelerated clock does not follow): the id, a timestamp
 * within `toleranceSeconds` of `nowMs`, and at least one v1 signature made with one of `secrets`
 * (`whsec_…`). Comparisons are constant-time.
 */
export function verifyWebhook(
  headers: HeaderBag,
  body: string | Buffer,
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  const id = header(headers, WEBHOOK_ID_HEADER);
  if (!id) return { ok: false, reason: `missing ${WEBHOOK_ID_HEADER} header` };
  const timestampText = header(headers, WEBHOOK_TIMESTAMP_HEADER);
  if (!timestampText || !/^\d{1,12}$/.test(timestampText))
    return { ok: false, reason: `missing or invalid ${WEBHOOK_TIMESTAMP_HEADER} header` };
  const value = header(headers, WEBHOOK_SIGNATURE_HEADER);
  if (!value) return { ok: false, reason: `missing ${WEBHOOK_SIGNATURE_HEADER} header` };

  const timestamp = Number(timestampText);
  const candidates = value
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  if (candidates.length === 0) return { ok: false, reason: `${WEBHOOK_SIGNATURE_HEADER} has no v1 signature` };
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds)
    return { ok: false, reason: `${WEBHOOK_TIMESTAMP_HEADER} outside the ${toleranceSeconds} s tolerance` };

  let matched = false;
  for (const secret of secrets) {
    const expected = hmac(webhookSecretKey(secret), id, timestamp, body);
    // No early exit: the work done does not depend on which secret or candidate matched.
    for (const candidate of candidates)
      if (candidate.length === expected.length && timingSafeEqual(expected, candidate)) matched = true;
  }
  return matched ? { ok: true, id, timestamp } : { ok: false, reason: 'no signature matches a configured secret' };
}
