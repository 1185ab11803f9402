/**
 * Webhook signatures. The header is
 *   X-Livecycle-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]
 * where each v1 is HMAC-SHA256(secret, `${eventId}.${t}.${body}`), one per configured secret, so
 * a receiver that knows either the old or the new secret verifies during a rotation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-livecycle-signature';
export const EVENT_ID_HEADER = 'x-livecycle-event-id';
export const EVENT_TYPE_HEADER = 'x-livecycle-event-type';
/** Default allowed difference between the signature time and the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function v1(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest('hex');
}

/** The signature header value for `body` of event `id`, signed at `nowMs` with every secret. */
export function signWebhook(id: string, body: string | Buffer, secrets: readonly string[], nowMs: number): string {
  if (secrets.length === 0) throw new Error('cannot sign a webhook without a secret (WEBHOOK_SECRETS is empty)');
  const t = Math.floor(nowMs / 1000);
  return [`t=${t}`, ...secrets.map((s) => `v1=${v1(s, id, t, body)}`)].join(',');
}

export type VerifyResult = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(',') : v;
  return undefined;
}

/**
 * Checks a delivery as a receiver would: the event id header, a fresh timestamp (within
 * `toleranceSeconds` of `nowMs`) and at least one v1 signature made with one of `secrets`.
 * Comparisons are constant-time.
 */
export function verifyWebhook(
  headers: HeaderBag,
  body: string | Buffer,
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  const id = header(headers, EVENT_ID_HEADER);
  if (!id) return { ok: false, reason: `missing ${EVENT_ID_HEADER} header` };
  const value = header(headers, SIGNATURE_HEADER);
  if (!value) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };

  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(val)) timestamp = Number(val);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(val)) candidates.push(Buffer.from(val, 'hex'));
  }
  if (timestamp === undefined) return { ok: false, reason: 'signature header has no valid t= timestamp' };
  if (candidates.length === 0) return { ok: false, reason: 'signature header has no v1= signature' };
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: `signature timestamp outside the ${toleranceSeconds} s tolerance` };

  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(v1(secret, id, timestamp, body), 'hex');
    // No early exit: the work done does not depend on which secret or candidate matched.
    for (const candidate of candidates) if (timingSafeEqual(expected, candidate)) matched = true;
  }
  return matched ? { ok: true, id, timestamp } : { ok: false, reason: 'no signature matches a configured secret' };
}
