/**
 * Time rules shared by every lifecycle decision.
 *
 * Two clocks meet here: OSS stamps push starts/ends and LastModified with its own clock, while
 * "now" comes from ours (`currentClock()`). Windows are always measured between OSS times;
 * only "has long enough passed since an OSS time?" compares the two clocks, and that comparison
 * gives OSS the benefit of the doubt by `skewToleranceMs`, so a clock of ours that runs ahead
 * can only make a decision late, never early. The skew is bounded in practice: OSS rejects
 * signed requests from a clock more than 15 min off (RequestTimeTooSkewed), and NTP keeps both
 * sides within well under a second.
 */

/** Default allowance for our clock being ahead of OSS's. */
export const DEFAULT_SKEW_TOLERANCE_MS = 5_000;

/**
 * The most a time another party reports (e.g. a snapshot notification's) may differ from our
 * now: OSS's own limit for a signed request's Date (RequestTimeTooSkewed). A report further off
 * is not about now — a forged, misdated or long-stale message — and is not acted on.
 */
export const MAX_REPORTED_TIME_SKEW_MS = 15 * 60_000;

/** Whether a reported time lies within `maxSkewMs` of now, either way. */
export function withinSkew(reportedMs: number, nowMs: number, maxSkewMs: number = MAX_REPORTED_TIME_SKEW_MS): boolean {
  return Math.abs(reportedMs - nowMs) <= maxSkewMs;
}

/**
 * The least time that can have passed since `ossTimeMs` (an OSS timestamp) when our clock reads
 * `nowMs`, allowing our clock to be up to `skewToleranceMs` ahead. May be negative.
 */
export function minimumElapsedMs(ossTimeMs: number, nowMs: number, skewToleranceMs: number): number {
  return nowMs - ossTimeMs - skewToleranceMs;
}

/** Epoch ms → Unix seconds, rounded down (a window start never moves later). */
export function floorSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Epoch ms → Unix seconds, rounded up (a window end never moves earlier). */
export function ceilSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/**
 * Compact UTC timestamp at second precision, e.g. `20160825T062515Z`: sortable, free of `/`
 * and `:`, so it can sit inside object keys and PlaylistNames.
 */
export function compactUtcSeconds(ms: number): string {
  const iso = new Date(floorSeconds(ms) * 1000).toISOString(); // 2016-08-25T06:25:15.000Z
  return `${iso.slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z`;
}

/** Inverse of `compactUtcSeconds`; undefined unless `text` is exactly such a timestamp. */
export function parseCompactUtcSeconds(text: string): number | undefined {
  if (text.length !== 16) return undefined;
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(9, 11)}:${text.slice(11, 13)}:${text.slice(13, 15)}Z`;
  const ms = Date.parse(iso);
  // Round-tripping rejects anything Date.parse tolerates but we never write (month 13, `x`…).
  return Number.isFinite(ms) && compactUtcSeconds(ms) === text ? ms : undefined;
}
