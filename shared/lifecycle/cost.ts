/**
 * Cost per channel: pure pieces. What a key costs to whom (`channelOfKey`), which OSS request
 * class an operation is billed as, how a channel folder's listing splits into live fragments,
 * fragments kept by VODs, playlists and snapshots (`FolderStorageCounter`), how counted usage
 * folds into monthly totals, and what that costs in CNY (docs/cost.md).
 */
import type * as v from 'valibot';
import type { PRICE_TABLE } from './cost-schema';
import { parseCompactUtcSeconds } from './time';
import { parseVodPlaylistName } from './vod';

/** Prices in CNY (docs/cost.md lists region, date and source of each default); schema: PRICE_TABLE. */
export type PriceTable = v.InferOutput<typeof PRICE_TABLE>;

/**
 * Published pay-as-you-go list prices, mainland China (cn-hangzhou). FC 3.0 bills compute units
 * (CU) at CNY 0.00011 per CU (tier 1, list price, not the promotional one): 75 CU per 10,000
 * invocations, 0.15 CU per GB-second, 1 CU per active vCPU-second. docs/cost.md has the sources.
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  source: 'Alibaba Cloud pay-as-you-go list prices (OSS pricing; Function Compute 3.0 CU pricing), see docs/cost.md',
  asOf: '2025-01-24',
  region: 'cn-hangzhou',
  storageGbMonth: 0.12,
  putPer10k: 0.01,
  getPer10k: 0.01,
  fcInvocationsPer10k: 75 * 0.00011,
  fcGbSecond: 0.15 * 0.00011,
  fcVcpuSecond: 0.00011,
  vcpuPerGb: 0.7,
});

/** The numeric prices, for validation of overrides (COST_PRICES). */
export const PRICE_FIELDS = [
  'storageGbMonth',
  'putPer10k',
  'getPer10k',
  'fcInvocationsPer10k',
  'fcGbSecond',
  'fcVcpuSecond',
  'vcpuPerGb',
] as const;

/** Where usage that belongs to no one channel is counted (listings of the whole bucket, poll state…). */
export const OVERHEAD = '~bucket';

/**
 * OSS bills GET-class and PUT-class requests. Reads of one object or one channel are GET-class;
 * writes, deletes and listings are PUT-class (OSS lists GetBucket/ListObjects among PUT requests).
 * The LiveChannel operations are not in OSS's published lists: classed the same way, UNCONFIRMED.
 */
const GET_CLASS = new Set([
  'GetObject',
  'HeadObject',
  'GetLiveChannelInfo',
  'GetLiveChannelStat',
  'GetLiveChannelHistory',
  'GetVodPlaylist',
]);

export function requestClass(operation: string): 'get' | 'put' {
  return GET_CLASS.has(operation) ? 'get' : 'put';
}

/** Ledger folders whose second segment is a channel segment (shared/ledger/keys.ts). */
const CHANNEL_LEDGER_FOLDERS = new Set([
  'channels',
  'pushes',
  'seen',
  'vods',
  'snapshots',
  'disabled',
  'tombstones',
  'cleaned',
  'missing',
  'holds',
  'budgets',
]);
/** Ledger folders with the channel segment third: `webhooks/events/<S>/…`, `poll/wake/<C>`. */
const NESTED_CHANNEL_FOLDERS = new Set(['webhooks/events', 'webhooks/seq', 'webhooks/assigned', 'poll/wake']);

/**
 * The channel an OSS request was made for, from the key or listing prefix it addressed: a
 * channel folder or LiveChannel (`cam-1`, `cam-1/…`), or a ledger record of that channel
 * (`_livecycle/pushes/cam-1/…`). Hashed ledger segments (`~…`, names over 200 bytes) and
 * anything bucket-wide are OVERHEAD.
 */
export function channelOfKey(key: string | undefined, ledgerPrefix: string): string {
  if (!key) return OVERHEAD;
  if (key.startsWith(ledgerPrefix)) {
    const parts = key.slice(ledgerPrefix.length).split('/');
    const segment = CHANNEL_LEDGER_FOLDERS.has(parts[0] ?? '')
      ? parts[1]
      : NESTED_CHANNEL_FOLDERS.has(`${parts[0]}/${parts[1]}`)
        ? parts[2]
        : undefined;
    return segment && !segment.startsWith('~') ? segment : OVERHEAD;
  }
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(0, slash);
  return name || OVERHEAD;
}

// ── storage ───────────────────────────────────────────────────────────────────────────────────

export const STORAGE_KINDS = ['liveFragments', 'vodFragments', 'playlists', 'snapshots', 'other'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

export interface Amount {
  objects: number;
  bytes: number;
}

export interface StorageFigures extends Amount {
  byKind: Record<StorageKind, Amount>;
}

export function emptyStorage(): StorageFigures {
  return {
    objects: 0,
    bytes: 0,
    byKind: Object.fromEntries(STORAGE_KINDS.map((k) => [k, { objects: 0, bytes: 0 }])) as Record<StorageKind, Amount>,
  };
}

/** Fragments are grouped by this much LastModified time, so a folder's tally stays small. */
export const FRAGMENT_BUCKET_MS = 5 * 60_000;

/**
 * Tallies one channel folder's listing, key by key, in one pass (listing order puts fragments
 * before the playlists that reference them, so fragments are grouped into 5-minute buckets of
 * LastModified and attributed at the end). A fragment is "kept by a VOD" when its bucket
 * overlaps a VOD playlist's broadcast: from the broadcast start in the playlist's name to the
 * playlist's LastModified (it is written once the broadcast ended). An estimate at 5-minute
 * resolution, made without reading any playlist; totals are exact.
 */
export class FolderStorageCounter {
  private readonly figures = emptyStorage();
  private readonly fragmentBuckets = new Map<number, Amount>();
  private readonly vodRanges: { from: number; to: number }[] = [];

  add(key: string, lastModified: number, size: number): void {
    const name = key.slice(key.lastIndexOf('/') + 1);
    this.figures.objects++;
    this.figures.bytes += size;
    if (name.endsWith('.ts')) {
      const bucket = Math.floor(lastModified / FRAGMENT_BUCKET_MS);
      const amount = this.fragmentBuckets.get(bucket) ?? { objects: 0, bytes: 0 };
      amount.objects++;
      amount.bytes += size;
      this.fragmentBuckets.set(bucket, amount);
      return;
    }
    const kind: StorageKind = name.endsWith('.m3u8') ? 'playlists' : name.endsWith('.jpg') ? 'snapshots' : 'other';
    addAmount(this.figures.byKind[kind], { objects: 1, bytes: size });
    const vod = kind === 'playlists' ? parseVodPlaylistName(name) : undefined;
    const from = vod && parseCompactUtcSeconds(vod.broadcastId);
    if (from !== undefined && from <= lastModified) this.vodRanges.push({ from, to: lastModified });
  }

  finish(): StorageFigures {
    for (const [bucket, amount] of this.fragmentBuckets) {
      const start = bucket * FRAGMENT_BUCKET_MS;
      const end = start + FRAGMENT_BUCKET_MS;
      const kept = this.vodRanges.some((r) => r.from < end && r.to >= start);
      addAmount(this.figures.byKind[kept ? 'vodFragments' : 'liveFragments'], amount);
    }
    return this.figures;
  }
}

function addAmount(into: Amount, add: Amount): void {
  into.objects += add.objects;
  into.bytes += add.bytes;
}

/**
 * The figures after `removed` objects were deleted from the folder (cleanup's own deletions in
 * the run that listed it): taken from live fragments first, then the others, never below 0.
 */
export function withoutDeleted(figures: StorageFigures, removed: Amount): StorageFigures {
  const out: StorageFigures = structuredClone(figures);
  out.objects = Math.max(0, out.objects - removed.objects);
  out.bytes = Math.max(0, out.bytes - removed.bytes);
  const left = { ...removed };
  for (const kind of STORAGE_KINDS) {
    const a = out.byKind[kind];
    const objects = Math.min(a.objects, left.objects);
    const bytes = Math.min(a.bytes, left.bytes);
    a.objects -= objects;
    a.bytes -= bytes;
    left.objects -= objects;
    left.bytes -= bytes;
  }
  return out;
}

// ── counted usage ─────────────────────────────────────────────────────────────────────────────

/** One invocation's usage in one bucket, as recorded in the ledger (`usage/<month>/raw/`). */
export interface InvocationUsage {
  function: string;
  startedAt: number;
  durationMs: number;
  memoryMb: number;
  /** Requests per channel (or OVERHEAD), per OSS operation. */
  requests: Record<string, Record<string, number>>;
}

export interface ChannelUsage {
  /** Requests per OSS operation. */
  requests: Record<string, number>;
  /** This channel's share of invocations (fractional: an invocation polling 10 channels gives each 0.1). */
  invocations: number;
  gbSeconds: number;
}

/** A month's usage per channel (and OVERHEAD). */
export type UsageTotals = Record<string, ChannelUsage>;

function emptyUsage(): ChannelUsage {
  return { requests: {}, invocations: 0, gbSeconds: 0 };
}

/**
 * Adds invocations to `totals` (mutated and returned). An invocation's FC cost is shared between
 * the channels it made requests for, in proportion to their requests; one that made none is
 * overhead.
 */
export function foldUsage(totals: UsageTotals, invocations: Iterable<InvocationUsage>): UsageTotals {
  for (const inv of invocations) {
    const perChannel = Object.entries(inv.requests).map(
      ([channel, ops]) => [channel, ops, Object.values(ops).reduce((a, b) => a + b, 0)] as const,
    );
    const all = perChannel.reduce((sum, [, , n]) => sum + n, 0);
    const gbSeconds = (inv.durationMs / 1000) * (inv.memoryMb / 1024);
    if (all === 0) perChannel.push([OVERHEAD, {}, 1]);
    const denominator = all || 1;
    for (const [channel, ops, n] of perChannel) {
      const usage = (totals[channel] ??= emptyUsage());
      for (const [op, count] of Object.entries(ops)) usage.requests[op] = (usage.requests[op] ?? 0) + count;
      usage.invocations += n / denominator;
      usage.gbSeconds += (gbSeconds * n) / denominator;
    }
  }
  return totals;
}

/** Adds one month's totals into another (mutated and returned). */
export function mergeUsage(into: UsageTotals, add: UsageTotals): UsageTotals {
  for (const [channel, usage] of Object.entries(add)) {
    const u = (into[channel] ??= emptyUsage());
    for (const [op, n] of Object.entries(usage.requests)) u.requests[op] = (u.requests[op] ?? 0) + n;
    u.invocations += usage.invocations;
    u.gbSeconds += usage.gbSeconds;
  }
  return into;
}

// ── months and money ──────────────────────────────────────────────────────────────────────────

/** `YYYY-MM` (UTC) of an epoch-ms instant: usage is kept per calendar month. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function isMonth(value: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
}

/** Start and end (exclusive) of a `YYYY-MM` month, epoch ms UTC. */
export function monthBounds(month: string): { start: number; end: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { start: Date.UTC(y, m - 1, 1), end: Date.UTC(y, m, 1) };
}

/**
 * How much of the month has passed at `now` (0..1]. Counted usage is projected to the whole
 * month by dividing by it; at least one hour counts as passed, so the first minutes of a month
 * do not project a handful of requests into millions.
 */
export function monthElapsed(month: string, now: number): number {
  const { start, end } = monthBounds(month);
  return Math.min(1, Math.max(3_600_000, now - start) / (end - start));
}

export interface CnyBreakdown {
  storage: number;
  requests: number;
  compute: number;
  total: number;
}

export interface RequestCounts {
  get: number;
  put: number;
  total: number;
}

export function requestCounts(requests: Record<string, number>): RequestCounts {
  let get = 0;
  let put = 0;
  for (const [op, n] of Object.entries(requests)) {
    if (requestClass(op) === 'get') get += n;
    else put += n;
  }
  return { get, put, total: get + put };
}

const GB = 1024 ** 3;

/** Rounded to 1/10,000 CNY: prices per request are that small; more digits would be noise. */
export function roundCny(cny: number): number {
  return Math.round(cny * 10_000) / 10_000;
}

/**
 * CNY for `bytes` stored for `monthFraction` of a month, `requests` counted and the FC usage
 * (`invocations`, `gbSeconds`).
 */
export function cnyOf(
  input: { bytes: number; monthFraction: number; requests: RequestCounts; invocations: number; gbSeconds: number },
  prices: PriceTable,
): CnyBreakdown {
  const storage = (input.bytes / GB) * prices.storageGbMonth * input.monthFraction;
  const requests = (input.requests.get * prices.getPer10k + input.requests.put * prices.putPer10k) / 10_000;
  const compute =
    (input.invocations * prices.fcInvocationsPer10k) / 10_000 +
    input.gbSeconds * (prices.fcGbSecond + prices.vcpuPerGb * prices.fcVcpuSecond);
  return {
    storage: roundCny(storage),
    requests: roundCny(requests),
    compute: roundCny(compute),
    total: roundCny(storage + requests + compute),
  };
}

// ── budgets ───────────────────────────────────────────────────────────────────────────────────

export type BudgetLevel = 'warning' | 'exceeded';
export const BUDGET_WARNING_FRACTION = 0.8;

/**
 * The budget levels `spentCny` has reached this month, lowest first (budget ≤ 0 or none: none).
 * Both when it jumped past 100 % at once, so `channel.budget_warning` is never skipped.
 */
export function budgetLevels(spentCny: number, budgetCny: number | undefined): BudgetLevel[] {
  if (budgetCny === undefined || budgetCny <= 0) return [];
  if (spentCny >= budgetCny) return ['warning', 'exceeded'];
  if (spentCny >= budgetCny * BUDGET_WARNING_FRACTION) return ['warning'];
  return [];
}

/**
 * The price table: DEFAULT_PRICES with the fields of `json` (COST_PRICES, a JSON object) over
 * them. Throws an Error naming the field at fault.
 */
export function pricesFrom(json: string | undefined): PriceTable {
  if (json === undefined) return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('must be a JSON object, e.g. {"region":"cn-shanghai","storageGbMonth":0.12}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('must be a JSON object');
  const out: Record<string, unknown> = { ...DEFAULT_PRICES };
  for (const [field, value] of Object.entries(parsed)) {
    if ((PRICE_FIELDS as readonly string[]).includes(field)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw new Error(`field ${field} must be a number >= 0, got ${JSON.stringify(value)}`);
    } else if (field === 'source' || field === 'asOf' || field === 'region') {
      if (typeof value !== 'string' || value.length === 0 || value.length > 200)
        throw new Error(`field ${field} must be a string of 1-200 characters`);
    } else {
      throw new Error(
        `unknown field ${JSON.stringify(field)}; allowed: source, asOf, region, ${PRICE_FIELDS.join(', ')}`,
      );
    }
    out[field] = value;
  }
  return Object.freeze(out) as unknown as PriceTable;
}

/** A budget in CNY (COST_BUDGET_CNY, the api's override): a decimal >= 0, 0 meaning none. */
export function parseBudgetCny(text: string): number {
  const n = /^\d{1,9}(\.\d{1,4})?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n))
    throw new Error(`must be a decimal number of CNY >= 0 (up to 4 decimals), got ${JSON.stringify(text)}`);
  return n;
}
