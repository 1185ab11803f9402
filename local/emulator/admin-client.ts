/**
 * What a caller of the emulator's admin API (`/_emulator/*`) needs. Every admin call carries
 * ADMIN_HEADER: a browser cannot send a custom header cross-origin without a CORS preflight,
 * which the emulator never approves, so a web page the developer visits cannot mint STS
 * credentials or move the clock (the admin API has no other auth). See docs/emulator.md.
 */
export const ADMIN_PREFIX = '/_emulator';
export const ADMIN_HEADER = 'x-livecycle-emulator';

/** Headers for an admin call; with a JSON content type when it sends a body. */
export function adminHeaders(withJsonBody = false): Record<string, string> {
  return withJsonBody ? { [ADMIN_HEADER]: '1', 'content-type': 'application/json' } : { [ADMIN_HEADER]: '1' };
}
