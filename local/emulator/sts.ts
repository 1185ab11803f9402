import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock';
import { signaturesEqual } from './signature';
import { OssErrorResponse } from './types';

export interface StsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** ISO 8601 UTC, as STS AssumeRole's `Credentials.Expiration`. */
  expiration: string;
}

export const STS_KEY_PREFIX = 'STS.';

function invalidToken(): OssErrorResponse {
  return new OssErrorResponse(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
}
const TOKEN_PREFIX = 'LCSTS1.';
export const MAX_STS_TTL_SECONDS = 12 * 3600;

/**
 * Temporary credentials without a token table: the token carries the key id and expiry plus an
 * HMAC over both under a per-instance key, and the secret is another HMAC of the same, so only
 * this emulator (or one restarted on the same data directory) can mint or accept them.
 */
/** Tokens already verified, so a function signing thousands of requests costs two HMACs once, not per request. */
const VERIFIED_LIMIT = 1024;

export class StsIssuer {
  private readonly verified = new Map<string, { accessKeyId: string; expiresMs: number; secret: string }>();

  constructor(
    private readonly key: Buffer,
    private readonly clock: Clock,
  ) {}

  mint(ttlSeconds: number): StsCredentials {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_STS_TTL_SECONDS) {
      throw new RangeError(`ttlSeconds must be an integer in [1, ${MAX_STS_TTL_SECONDS}], got ${ttlSeconds}`);
    }
    const accessKeyId = STS_KEY_PREFIX + randomBytes(12).toString('base64url');
    const expiresMs = this.clock.now() + ttlSeconds * 1000;
    const claims = `${accessKeyId}:${expiresMs}`;
    return {
      accessKeyId,
      accessKeySecret: this.mac('secret', claims),
      securityToken: `${TOKEN_PREFIX}${Buffer.from(claims).toString('base64url')}.${this.mac('token', claims)}`,
      expiration: new Date(expiresMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  /**
   * The secret of `accessKeyId` if `token` is a live token minted for it; otherwise 403
   * InvalidSecurityToken (forged, garbled, other key) or SecurityTokenExpired.
   */
  secretFor(accessKeyId: string, token: string): string {
    // The token's MAC was checked when it was first seen; its key id and expiry still are, every time.
    const known = this.verified.get(token) ?? this.verify(token);
    if (known.accessKeyId !== accessKeyId) throw invalidToken();
    if (!(this.clock.now() < known.expiresMs)) {
      throw new OssErrorResponse(403, 'SecurityTokenExpired', 'The security token you provided has expired.', {
        Expiration: new Date(known.expiresMs).toISOString(),
      });
    }
    return known.secret;
  }

  /** Checks the token's MAC and remembers its claims (bounded: oldest forgotten first). */
  private verify(token: string): { accessKeyId: string; expiresMs: number; secret: string } {
    if (!token.startsWith(TOKEN_PREFIX)) throw invalidToken();
    const [encodedClaims = '', mac = '', ...rest] = token.slice(TOKEN_PREFIX.length).split('.');
    const claims = Buffer.from(encodedClaims, 'base64url').toString('utf8');
    if (rest.length || !signaturesEqual(this.mac('token', claims), mac)) throw invalidToken();
    const sep = claims.lastIndexOf(':');
    const entry = {
      accessKeyId: claims.slice(0, sep),
      expiresMs: Number(claims.slice(sep + 1)),
      secret: this.mac('secret', claims),
    };
    if (this.verified.size >= VERIFIED_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, entry);
    return entry;
  }

  private mac(purpose: string, claims: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${claims}`).digest('base64url');
  }
}
