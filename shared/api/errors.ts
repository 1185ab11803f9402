import type { ErrorCode } from './error-codes';

/**
 * The one error type of the HTTP layer. Anything that should reach the caller as a 4xx (or a
 * deliberate 5xx) is thrown as an ApiError; everything else is an unexpected failure that
 * `handleHttp` turns into a bare 500 and logs.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    /** One of the listed codes (shared/api/error-codes.ts). */
    readonly code: ErrorCode,
    message: string,
    /** The request field (body key, query parameter, path parameter or header) at fault. */
    readonly field?: string,
    /** Extra response headers, e.g. `Allow` on a 405 or `WWW-Authenticate` on a 401. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}
