/**
 * Decoding what timer-and-async functions receive. A timer event is
 * `{triggerTime, triggerName, payload?}` (function-compute.md §2.1); an async invocation's event
 * is exactly the JSON payload the caller passed to `invokeAsync`. Decoding never throws and is
 * strict: an event that is neither is bad input, acknowledged with a warning and no job (FC would
 * only retry a throw, and a job run per garbage event costs a whole poll or sweep).
 */
import { CHANNEL_NAME, isToken } from '../ledger';

export type JsonRecord = Record<string, unknown>;

/** The event as a JSON object, or undefined when it is not one (never throws). */
export function jsonObject(event: Buffer | string): JsonRecord | undefined {
  try {
    const value: unknown = JSON.parse(typeof event === 'string' ? event : event.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** FC's timer event: a non-empty trigger name, a parseable trigger time, a string payload if any. */
export function isTimerEvent(event: JsonRecord): boolean {
  return (
    typeof event.triggerName === 'string' &&
    event.triggerName !== '' &&
    typeof event.triggerTime === 'string' &&
    Number.isFinite(Date.parse(event.triggerTime)) &&
    (event.payload === undefined || typeof event.payload === 'string')
  );
}

/** "Run the job now": a timer event, or `{}` (a manual invoke, e.g. `s invoke` without an event). */
export function isRunRequest(event: JsonRecord): boolean {
  return isTimerEvent(event) || Object.keys(event).length === 0;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function stringField(event: JsonRecord, name: string): string | undefined {
  const value = event[name];
  return typeof value === 'string' ? value : undefined;
}

export function isBucketName(value: string | undefined): value is string {
  return value !== undefined && BUCKET_NAME.test(value);
}

export function isChannelName(value: string | undefined): value is string {
  return value !== undefined && CHANNEL_NAME.test(value);
}

/** A ledger id (broadcast id, run id…): 1-128 of [A-Za-z0-9._-], not `.`/`..`. */
export function isLedgerId(value: string | undefined): value is string {
  return value !== undefined && isToken(value);
}
