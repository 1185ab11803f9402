/**
 * Decoding what timer-and-async functions receive. A timer event is
 * `{triggerTime, triggerName, payload?}` (function-compute.md §2.1); an async invocation's event
 * is exactly the JSON payload the caller passed to `invokeAsync`.
 */
import { CHANNEL_NAME } from '../ledger';

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

export function isTimerEvent(event: JsonRecord): boolean {
  return typeof event.triggerName === 'string' && typeof event.triggerTime === 'string';
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
