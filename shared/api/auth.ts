import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { currentClock, type Clock } from '../clock';
import { registerSecret } from '../log';
import { ApiError } from './errors';
import type { ErrorCode } from './error-codes';
import type { HttpRequest } from './event';

export const TIMESTAMP_HEADER = 'X-Livecycle-Timestamp';
export const SIGNATURE_HEADER = 'X-Livecycle-Signature';
/** A signed request is accepted while |now − timestamp| ≤ this, in either direction. */
export const REPLAY_WINDOW_SECONDS = 300;

const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^v1=([0-9a-f]{64})$/i;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/** What a ReplayStore says about a signature: first use, seen before, or no room to remember it. */
export type ReplayVerdict = { outcome: 'new' } | { outcome: 'replayed' } | { outcome: 'full'; retryAfterMs: number };

/**
 * Remembers signatures already used, so a captured request cannot be replayed inside the window.
 * `remember` records `key` until `expiresAtMs`. A store must never forget an unexpired key to make
 * room: when it cannot remember one more it answers `full` and the request is refused (503).
 * Async so a shared store (e.g. a `forbidOverwrite` object in the bucket) can stand behind it.
 */
export interface ReplayStore {
  remember(key: string, expiresAtMs: number, nowMs: number): Promise<ReplayVerdict>;
}

/**
 * Best effort: one FC instance's memory. Separate instances do not share it, so a replay that
 * lands on another instance inside the window is not caught; the window still bounds it.
 * Memory is bounded by `maxEntries`; an entry is dropped only once expired.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly expiries = new Map<string, number>();
  /** No entry expires before this, so while the store is full and `now` is not past it, nothing can be purged. */
  private earliestExpiryMs = Infinity;

  constructor(private readonly maxEntries = 10_000) {}

  async remember(key: string, expiresAtMs: number, nowMs: number): Promise<ReplayVerdict> {
    const known = this.expiries.get(key);
    if (known !== undefined && known >= nowMs) return { outcome: 'replayed' };
    if (known === undefined && this.expiries.size >= this.maxEntries) {
      if (this.earliestExpiryMs < nowMs) this.purgeExpired(nowMs);
      if (this.expiries.size >= this.maxEntries)
        return { outcome: 'full', retryAfterMs: this.earliestExpiryMs - nowMs + 1 };
    }
    this.expiries.set(key, expiresAtMs);
    this.earliestExpiryMs = Math.min(this.earliestExpiryMs, expiresAtMs);
    return { outcome: 'new' };
  }

  /** Drops expired entries and recomputes the earliest expiry among those kept. */
  private purgeExpired(nowMs: number): void {
    this.earliestExpiryMs = Infinity;
    for (const [key, expiresAtMs] of this.expiries) {
      if (expiresAtMs < nowMs) this.expiries.delete(key);
      else this.earliestExpiryMs = Math.min(this.earliestExpiryMs, expiresAtMs);
    }
  }
}

export interface CanonicalRequest {
  method: string;
  /** Decoded path, e.g. `/channels/cam-1/enable`. */
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: Buffer | string;
}

/**
 * The query line: parameters sorted by name (UTF-16 code-unit order), each
 * `encodeURIComponent(name)=encodeURIComponent(value)`, joined with `&`; empty when there are none.
 */
export function canonicalQuery(query: Readonly<Record<string, string>> = {}): string {
  return Object.keys(query)
    .sort()
    .map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(query[name] ?? '')}`)
    .join('&');
}

/** `METHOD\nPATH\nQUERY\nTIMESTAMP\nhex(sha256(body))` — see docs/api.md. */
export function stringToSign(request: CanonicalRequest, timestampSeconds: number): string {
  const bodyHash = createHash('sha256')
    .update(request.body ?? '')
    .digest('hex');
  return [
    request.method.toUpperCase(),
    request.path,
    canonicalQuery(request.query),
    String(timestampSeconds),
    bodyHash,
  ].join('\n');
}

function hmac(secret: string, text: string): Buffer {
  return createHmac('sha256', secret).update(text).digest();
}

/** Signs a request for the livecycle api; returns the two headers to send. `now` is epoch ms. */
export function signApiRequest(request: CanonicalRequest & { secret: string; now: number }): Record<string, string> {
  const timestamp = Math.floor(request.now / 1000);
  return {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: `v1=${hmac(request.secret, stringToSign(request, timestamp)).toString('hex')}`,
  };
}

export interface AuthConfig {
  /** Shared HMAC secrets; every one is accepted, so a new one can be rolled out before the old is dropped. */
  secrets?: readonly string[];
  /** Bearer tokens, likewise several for rotation. */
  tokens?: readonly string[];
  replayStore?: ReplayStore;
  /** Defaults to `currentClock()` at each call. */
  clock?: Clock;
}

export type AuthScheme = 'signature' | 'token';

export interface Authenticator {
  /** Resolves with the scheme that admitted the request, or rejects with a 401 ApiError. */
  authenticate(request: HttpRequest): Promise<AuthScheme>;
}

function unauthorized(code: ErrorCode, message: string, field?: string): ApiError {
  return new ApiError(401, code, message, field, { 'WWW-Authenticate': 'Bearer realm="livecycle"' });
}

/** True when any candidate equals `provided`; every candidate is compared, each in constant time. */
function anyEqual(candidates: readonly Buffer[], provided: Buffer): boolean {
  let matched = false;
  for (const candidate of candidates) matched = timingSafeEqual(candidate, provided) || matched;
  return matched;
}

/**
 * Builds the authenticator for every api call. Throws at construction when nothing is
 * configured: an api that admits nobody is a deployment mistake to surface at cold start.
 */
export function createAuthenticator(config: AuthConfig): Authenticator {
  const secrets = (config.secrets ?? []).filter((s) => s.length > 0);
  const tokens = (config.tokens ?? []).filter((t) => t.length > 0);
  if (secrets.length === 0 && tokens.length === 0) throw new Error('api auth: no secrets or tokens configured');
  for (const value of [...secrets, ...tokens]) registerSecret(value);
  const replayStore = config.replayStore ?? new MemoryReplayStore();
  const clock = () => config.clock ?? currentClock();
  // Tokens are compared as HMACs under a per-process key: equal-length buffers for
  // timingSafeEqual whatever the token lengths, and no token bytes in the comparison.
  const tokenKey = randomBytes(32);
  const tokenDigest = (token: string) => createHmac('sha256', tokenKey).update(token).digest();
  const tokenDigests = tokens.map(tokenDigest);

  async function verifySignature(
    request: HttpRequest,
    timestampHeader: string | undefined,
    signatureHeader: string | undefined,
  ): Promise<AuthScheme> {
    if (timestampHeader === undefined)
      throw unauthorized('malformed_signature', `${TIMESTAMP_HEADER} header is missing`, TIMESTAMP_HEADER);
    if (signatureHeader === undefined)
      throw unauthorized('malformed_signature', `${SIGNATURE_HEADER} header is missing`, SIGNATURE_HEADER);
    if (!TIMESTAMP.test(timestampHeader))
      throw unauthorized('malformed_signature', `${TIMESTAMP_HEADER} must be unix seconds`, TIMESTAMP_HEADER);
    const signatureHex = SIGNATURE.exec(signatureHeader)?.[1];
    if (signatureHex === undefined)
      throw unauthorized('malformed_signature', `${SIGNATURE_HEADER} must be v1=<64 hex digits>`, SIGNATURE_HEADER);

    const timestamp = Number(timestampHeader);
    const nowMs = clock().now();
    if (Math.abs(nowMs - timestamp * 1000) > REPLAY_WINDOW_SECONDS * 1000) {
      throw unauthorized(
        'expired_timestamp',
        `${TIMESTAMP_HEADER} is more than ${REPLAY_WINDOW_SECONDS} s from the server time`,
        TIMESTAMP_HEADER,
      );
    }
    const text = stringToSign(request, timestamp);
    const provided = Buffer.from(signatureHex, 'hex');
    if (
      !anyEqual(
        secrets.map((secret) => hmac(secret, text)),
        provided,
      )
    )
      throw unauthorized('bad_signature', 'signature does not match the request');

    const expiresAtMs = (timestamp + REPLAY_WINDOW_SECONDS) * 1000;
    const verdict = await replayStore.remember(`v1:${provided.toString('hex')}`, expiresAtMs, nowMs);
    if (verdict.outcome === 'replayed')
      throw unauthorized('replayed', 'this signed request was already used; sign each request anew');
    if (verdict.outcome === 'full') {
      // Refused rather than admitted unrecorded: letting it through would let a captured copy replay.
      const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      throw new ApiError(
        503,
        'replay_store_full',
        'too many signed requests inside the replay window; retry later',
        undefined,
        { 'Retry-After': String(retryAfterSeconds) },
      );
    }
    return 'signature';
  }

  function verifyToken(authorization: string): AuthScheme {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined)
      throw unauthorized('malformed_token', 'Authorization must be "Bearer <token>"', 'Authorization');
    if (!anyEqual(tokenDigests, tokenDigest(token))) throw unauthorized('bad_token', 'token is not valid');
    return 'token';
  }

  return {
    async authenticate(request) {
      const timestampHeader = request.headers[TIMESTAMP_HEADER.toLowerCase()];
      const signatureHeader = request.headers[SIGNATURE_HEADER.toLowerCase()];
      // Either signature header selects the signature scheme; a bad signature never falls back to a token.
      if (timestampHeader !== undefined || signatureHeader !== undefined)
        return verifySignature(request, timestampHeader, signatureHeader);
      const authorization = request.headers.authorization;
      if (authorization !== undefined) return verifyToken(authorization);
      throw unauthorized(
        'missing_credentials',
        `send ${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER}, or Authorization: Bearer <token>`,
      );
    },
  };
}
