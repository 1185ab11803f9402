/**
 * Which failures are worth another attempt, and how long to wait: bounded exponential back-off
 * with full jitter (the Go v2 SDK's model: base 200 ms, max 3 attempts).
 */
import { OssError, OssNetworkError, OssProtocolError, OssTimeoutError } from './errors';

export interface RetryOptions {
  /** Total attempts including the first (1 = no retries). */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, baseMs: 200, capMs: 5_000 };

/**
 * Transient by nature: 5xx (including 503 throttling such as MetaOperationQpsLimitExceeded),
 * 429, 408, connection failures, and an attempt's connect/headers/body timeout. Never the
 * call's own deadline, client errors, or an unreadable success body.
 */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof OssProtocolError) return false;
  if (err instanceof OssError) return err.status >= 500 || err.status === 429 || err.status === 408;
  if (err instanceof OssTimeoutError) return err.phase !== 'deadline';
  return err instanceof OssNetworkError;
}

/** Delay before attempt `failedAttempts + 1`: uniform in [0, min(cap, base · 2^(failedAttempts-1))]. */
export function backoffDelayMs(failedAttempts: number, opts: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(random() * ceiling);
}
