/** Console login tokens and session cookies (shared/console/session.ts): pure, no I/O. */
import { describe, expect, it } from 'vitest';
import { ConsoleKeys, LOGIN_TTL_MS, SESSION_TTL_MS, readCookie, sessionCookie } from '../../shared/console/session';

const NOW = Date.UTC(2024, 4, 1, 12);
const keys = new ConsoleKeys(['first-secret-0123456789', 'older-secret-0123456789']);

describe('console login tokens', () => {
  it('verifies its own token until it expires', () => {
    const token = keys.mintLogin(NOW);
    expect(keys.verifyLogin(token, NOW + LOGIN_TTL_MS - 1)).toMatchObject({ expiresAt: NOW + LOGIN_TTL_MS });
    expect(keys.verifyLogin(token, NOW + LOGIN_TTL_MS)).toBeUndefined();
  });

  it('refuses a token signed with another secret, a tampered payload, and a session cookie used as a token', () => {
    const other = new ConsoleKeys(['someone-elses-secret-0123']);
    expect(keys.verifyLogin(other.mintLogin(NOW), NOW)).toBeUndefined();
    const [payload, mac] = keys.mintLogin(NOW).split('.');
    const longer = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), exp: NOW * 2 }),
    ).toString('base64url');
    expect(keys.verifyLogin(`${longer}.${mac}`, NOW)).toBeUndefined();
    expect(keys.verifyLogin(keys.mintSession('token', NOW).cookie, NOW)).toBeUndefined();
    expect(keys.verifyLogin('not-a-token', NOW)).toBeUndefined();
  });

  it('accepts a token signed with any configured secret (rotation)', () => {
    const older = new ConsoleKeys(['older-secret-0123456789']);
    expect(keys.verifyLogin(older.mintLogin(NOW), NOW)).toBeDefined();
  });
});

describe('console sessions', () => {
  it('carries how it signed in, and lapses after SESSION_TTL_MS', () => {
    const { cookie, session } = keys.mintSession('login-link', NOW);
    expect(keys.verifySession(cookie, NOW)).toEqual(session);
    expect(session.method).toBe('login-link');
    expect(keys.verifySession(cookie, NOW + SESSION_TTL_MS)).toBeUndefined();
    expect(keys.verifySession(keys.mintLogin(NOW), NOW)).toBeUndefined();
  });

  it('is an HttpOnly, SameSite=Strict cookie scoped to /console, Secure off loopback', () => {
    expect(sessionCookie('v', 60, true)).toBe(
      'livecycle_console=v; Path=/console; HttpOnly; SameSite=Strict; Max-Age=60; Secure',
    );
    expect(sessionCookie('v', 60, false)).not.toContain('Secure');
    expect(readCookie('a=1; livecycle_console=abc.def; b=2', 'livecycle_console')).toBe('abc.def');
    expect(readCookie(undefined, 'livecycle_console')).toBeUndefined();
  });
});
