/**
 * Console sign-in without server-side session state: a login link's token and the session
 * cookie are both `<base64url JSON>.<base64url HMAC>` under a key derived from the api's own
 * credentials (API_SECRETS, else API_TOKEN), so every FC instance verifies them alike and
 * rotating the api's secrets signs everyone out. A login token is one-time by a create-once
 * ledger marker on its nonce (Ledger.useConsoleLogin); sessions simply expire.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A login link works for this long (clock time; `livecycle start --rate N` shortens it in real time). */
export const LOGIN_TTL_MS = 7 * 24 * 3600_000;
/** A session lasts this long, then the page asks to sign in again. */
export const SESSION_TTL_MS = 12 * 3600_000;
export const SESSION_COOKIE = 'livecycle_console';

/** How a session signed in: a login link printed by `livecycle start`, or the api's bearer token. */
export type SignInMethod = 'login-link' | 'token';

export interface Session {
  /** Short random id, written beside console actions in the ledger as who did them. */
  id: string;
  method: SignInMethod;
  expiresAt: number;
}

export interface LoginToken {
  nonce: string;
  expiresAt: number;
}

const LABEL = 'livecycle console v1';
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

function keyOf(secret: string): Buffer {
  return createHmac('sha256', secret).update(LABEL).digest();
}

function b64(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function sign(key: Buffer, kind: string, payload: string): string {
  return b64(createHmac('sha256', key).update(`${kind}.${payload}`).digest());
}

/** Signs with the first secret, verifies with any (rotation). Throws when none is configured. */
export class ConsoleKeys {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.filter((s) => s.length > 0).map(keyOf);
    if (this.keys.length === 0) throw new Error('console: API_SECRETS or API_TOKEN must be configured');
  }

  private seal(kind: string, value: object): string {
    const payload = b64(JSON.stringify(value));
    return `${payload}.${sign(this.keys[0] as Buffer, kind, payload)}`;
  }

  /** The JSON inside a sealed value when one of the keys signed it, else undefined. */
  private open(kind: string, text: string): Record<string, unknown> | undefined {
    const [payload, mac, extra] = text.split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
    const provided = Buffer.from(mac, 'base64url');
    let matched = false;
    for (const key of this.keys) {
      const expected = Buffer.from(sign(key, kind, payload), 'base64url');
      matched = (expected.length === provided.length && timingSafeEqual(expected, provided)) || matched;
    }
    if (!matched) return undefined;
    try {
      const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  mintLogin(now: number, ttlMs = LOGIN_TTL_MS): string {
    return this.seal('login', { n: randomBytes(18).toString('base64url'), exp: now + ttlMs });
  }

  /** The token's nonce and expiry when it is ours and unexpired; whether it was used is the ledger's to say. */
  verifyLogin(token: string, now: number): LoginToken | undefined {
    const value = this.open('login', token);
    if (!value || typeof value.n !== 'string' || !NONCE.test(value.n) || typeof value.exp !== 'number')
      return undefined;
    return value.exp > now ? { nonce: value.n, expiresAt: value.exp } : undefined;
  }

  mintSession(method: SignInMethod, now: number): { cookie: string; session: Session } {
    const session: Session = { id: randomBytes(6).toString('hex'), method, expiresAt: now + SESSION_TTL_MS };
    return { cookie: this.seal('session', { id: session.id, m: method, exp: session.expiresAt }), session };
  }

  verifySession(cookie: string, now: number): Session | undefined {
    const value = this.open('session', cookie);
    if (!value || typeof value.id !== 'string' || typeof value.exp !== 'number') return undefined;
    if (value.m !== 'login-link' && value.m !== 'token') return undefined;
    return value.exp > now ? { id: value.id, method: value.m, expiresAt: value.exp } : undefined;
  }
}

/** Who a session is, as written in the ledger beside an action. */
export function sessionWho(session: Session): string {
  return `console:${session.method}:${session.id}`;
}

/** The value of cookie `name` in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Set-Cookie for the session: HttpOnly (no script reads it), SameSite=Strict (no cross-site
 * request carries it), scoped to /console, Secure except on a loopback host (the local stack
 * serves plain http).
 */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/console',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
