/**
 * The ledger's key layout (documented in docs/ledger.md). Every key is built here and nowhere
 * else, so the layout can be read in one place and tested without OSS.
 */
import { createHash } from 'node:crypto';

/** Where the ledger lives in a bucket unless LEDGER_PREFIX says otherwise; no channel may be named `_livecycle`. */
export const DEFAULT_LEDGER_PREFIX = '_livecycle/';
/** Channel names livecycle accepts (a subset of OSS's rules; no `/`, so one key segment). */
export const CHANNEL_NAME = /^[A-Za-z0-9._-]{1,1023}$/;
/** Hold ids, broadcast ids, cursor names, shard ids, run ids: short, key-safe. */
const TOKEN = /^[A-Za-z0-9._-]{1,128}$/;
/** Longer channel names are hashed so every ledger key stays under OSS's 1023-byte limit. */
const MAX_VERBATIM_CHANNEL = 200;
/** Events about the bucket as a whole (cleanup.completed) use this scope instead of a channel. */
export const BUCKET_SCOPE = '~bucket';

const MAX_MS = 9_999_999_999_999;
const MAX_SEQUENCE = 9_999_999_999;

export class LedgerKeyError extends Error {
  override name = 'LedgerKeyError';
}

export function assertChannelName(channel: string): void {
  if (!CHANNEL_NAME.test(channel))
    throw new LedgerKeyError(
      `invalid channel name ${JSON.stringify(channel.slice(0, 80))}: must be 1-1023 characters of [A-Za-z0-9._-]`,
    );
}

/** Whether `value` is a valid id (see TOKEN): what assertToken accepts. */
export function isToken(value: string): boolean {
  return TOKEN.test(value) && value !== '.' && value !== '..';
}

export function assertToken(what: string, value: string): void {
  if (!isToken(value))
    throw new LedgerKeyError(
      `invalid ${what} ${JSON.stringify(value.slice(0, 80))}: must be 1-128 characters of [A-Za-z0-9._-], not "." or ".."`,
    );
}

/**
 * The key segment standing for a channel. Short names are used verbatim (readable keys, and
 * listings can name the channel without a GET); `.`, `..` (which URL handling may collapse) and
 * names over 200 bytes become `~` + SHA-256 hex. `~` is outside the channel alphabet, so the two
 * forms never collide.
 */
export function channelSegment(channel: string): string {
  assertChannelName(channel);
  if (channel.length <= MAX_VERBATIM_CHANNEL && channel !== '.' && channel !== '..') return channel;
  return `~${createHash('sha256').update(channel).digest('hex')}`;
}

/** The channel a segment names, when the segment is verbatim (undefined when hashed). */
export function channelFromSegment(segment: string): string | undefined {
  return segment.startsWith('~') ? undefined : segment;
}

function checkMs(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_MS)
    throw new LedgerKeyError(`invalid time ${ms}: must be whole epoch milliseconds`);
  return ms;
}

/** 13-digit zero-padded milliseconds: sorts oldest first. */
export function ascendingMs(ms: number): string {
  return String(checkMs(ms)).padStart(13, '0');
}

/** 13 digits of (max − ms): sorts NEWEST first, so a 1-key listing finds the latest. */
export function descendingMs(ms: number): string {
  return String(MAX_MS - checkMs(ms)).padStart(13, '0');
}

export function parseDescendingMs(digits: string): number {
  if (!/^\d{13}$/.test(digits)) throw new LedgerKeyError(`not a descending timestamp: ${JSON.stringify(digits)}`);
  return MAX_MS - Number(digits);
}

/** 10 digits of (max − n): the highest sequence lists first. */
export function descendingSequence(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SEQUENCE) throw new LedgerKeyError(`invalid sequence ${n}`);
  return String(MAX_SEQUENCE - n).padStart(10, '0');
}

export function parseDescendingSequence(digits: string): number {
  if (!/^\d{10}$/.test(digits)) throw new LedgerKeyError(`not a descending sequence: ${JSON.stringify(digits)}`);
  return MAX_SEQUENCE - Number(digits);
}

/**
 * A series of numbered create-once claims, `<prefix><descendingSequence(n)>.json`: the highest
 * number lists first (a 1-key listing finds it), and of any number of writers creating number n
 * exactly one succeeds. Used through `claimNext` (shared/ledger/claims.ts).
 */
export class ClaimSeries {
  constructor(readonly prefix: string) {}

  key(n: number): string {
    return `${this.prefix}${descendingSequence(n)}.json`;
  }

  numberOf(key: string): number {
    if (!key.startsWith(this.prefix) || !key.endsWith('.json'))
      throw new LedgerKeyError(`not a claim of ${this.prefix}: ${JSON.stringify(key)}`);
    return parseDescendingSequence(key.slice(this.prefix.length, -'.json'.length));
  }
}

export const VOD_STATUSES = ['pending', 'failed', 'ready'] as const;
export type VodStatus = (typeof VOD_STATUSES)[number];

/** Event ids are `evt_` + 32 hex characters (see shared/webhooks/events.ts). */
const EVENT_ID = /^evt_[0-9a-f]{32}$/;

function assertEventId(id: string): void {
  if (!EVENT_ID.test(id)) throw new LedgerKeyError(`invalid event id ${JSON.stringify(id.slice(0, 80))}`);
}

function assertMonth(month: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
    throw new LedgerKeyError(`invalid month ${JSON.stringify(month)}: YYYY-MM`);
  return month;
}

/** Every key of one bucket's ledger. `prefix` ends in `/` (validated by shared/config.ts). */
export class LedgerKeys {
  constructor(readonly prefix: string) {
    if (!prefix.endsWith('/') || prefix.startsWith('/'))
      throw new LedgerKeyError(
        `invalid ledger prefix ${JSON.stringify(prefix)}: must end in "/" and not start with "/"`,
      );
  }

  channels(): string {
    return `${this.prefix}channels/`;
  }
  channelGenerations(channel: string): string {
    return `${this.channels()}${channelSegment(channel)}/`;
  }
  channelGeneration(channel: string, generation: number): string {
    return `${this.channelGenerations(channel)}${descendingMs(generation)}.json`;
  }

  pushes(channel: string): string {
    return `${this.prefix}pushes/${channelSegment(channel)}/`;
  }
  /** One observation: `stat` (live, no end) or `history` (with the end History gave then). */
  push(channel: string, startTime: number, source: 'stat' | 'history', endTime?: number): string {
    const what = source === 'stat' ? 'stat' : `history-${ascendingMs(endTime ?? startTime)}`;
    return `${this.pushes(channel)}${ascendingMs(startTime)}/${what}.json`;
  }

  seenLive(channel: string): string {
    return `${this.prefix}seen/${channelSegment(channel)}/`;
  }
  seenLiveAt(channel: string, at: number): string {
    return `${this.seenLive(channel)}${descendingMs(at)}.json`;
  }

  vods(channel: string): string {
    return `${this.prefix}vods/${channelSegment(channel)}/`;
  }
  vod(channel: string, broadcastId: string): string {
    assertToken('broadcast id', broadcastId);
    return `${this.vods(channel)}${broadcastId}/`;
  }
  vodStatus(channel: string, broadcastId: string, status: VodStatus): string {
    return `${this.vod(channel, broadcastId)}${status}.json`;
  }

  snapshots(channel: string): string {
    return `${this.prefix}snapshots/${channelSegment(channel)}/`;
  }
  snapshot(channel: string, at: number): string {
    return `${this.snapshots(channel)}${descendingMs(at)}.json`;
  }

  disables(channel: string): string {
    return `${this.prefix}disabled/${channelSegment(channel)}/`;
  }
  disable(channel: string, generation: number, since: number): string {
    return `${this.disables(channel)}${ascendingMs(generation)}-${ascendingMs(since)}.json`;
  }

  tombstones(): string {
    return `${this.prefix}tombstones/`;
  }
  channelTombstones(channel: string): string {
    return `${this.tombstones()}${channelSegment(channel)}/`;
  }
  tombstone(channel: string, generation: number): string {
    return `${this.channelTombstones(channel)}${ascendingMs(generation)}.json`;
  }
  /** Written by cleanup once a deleted generation's objects are gone; mirrors the tombstone's key. */
  tombstonesCleaned(): string {
    return `${this.prefix}cleaned/`;
  }
  tombstoneCleaned(channel: string, generation: number): string {
    return `${this.tombstonesCleaned()}${channelSegment(channel)}/${ascendingMs(generation)}.json`;
  }

  /** When cleanup first found the channel missing from ListLiveChannel (no tombstone). */
  channelMissing(channel: string): string {
    return `${this.prefix}missing/${channelSegment(channel)}/since.json`;
  }

  /** Every channel's holds. */
  allHolds(): string {
    return `${this.prefix}holds/`;
  }
  holds(channel: string): string {
    return `${this.allHolds()}${channelSegment(channel)}/`;
  }
  hold(channel: string, holdId: string): string {
    assertToken('hold id', holdId);
    return `${this.holds(channel)}${holdId}.json`;
  }

  cleanupReports(): string {
    return `${this.prefix}cleanup/reports/`;
  }
  cleanupReport(finishedAt: number, runId: string): string {
    assertToken('run id', runId);
    return `${this.cleanupReports()}${descendingMs(finishedAt)}-${runId}.json`;
  }
  cleanupCursor(name: string): string {
    assertToken('cursor name', name);
    return `${this.prefix}cleanup/cursors/${name}.json`;
  }

  /** The bucket's cleanup lease: one cleanup run at a time (shared/cleanup/lease.ts). */
  cleanupLeases(): ClaimSeries {
    return new ClaimSeries(`${this.prefix}cleanup/leases/`);
  }

  /** disable-idle's cache of disabled channels whose disable is announced (LWW). */
  idleState(): string {
    return `${this.prefix}idle/state.json`;
  }

  pollState(shard: string): string {
    assertToken('poll shard', shard);
    return `${this.prefix}poll/${shard}.json`;
  }
  /** Wake markers: one per channel, overwritten (LWW); their LastModified is the wake time. */
  pollWakes(): string {
    return `${this.prefix}poll/wake/`;
  }
  pollWake(channel: string): string {
    return `${this.pollWakes()}${channelSegment(channel)}`;
  }

  /** A console login link's nonce, used once (shared/console/session.ts). */
  consoleLogin(nonce: string): string {
    assertToken('login nonce', nonce);
    return `${this.prefix}console/logins/${nonce}.json`;
  }
  /** Actions taken in the console, per channel, oldest first: who did what. */
  consoleActions(channel: string): string {
    return `${this.prefix}console/actions/${channelSegment(channel)}/`;
  }
  consoleAction(channel: string, at: number, id: string): string {
    assertToken('action id', id);
    return `${this.consoleActions(channel)}${ascendingMs(at)}-${id}.json`;
  }
  /**
   * Counted usage in month `month` (`YYYY-MM`), written once per instance batch (`id`: the
   * batch's; before batching, one per invocation, `id` its request id).
   */
  usageRaw(month: string): string {
    return `${this.prefix}usage/${assertMonth(month)}/raw/`;
  }
  usageRawRecord(month: string, startedAt: number, fn: string, id: string): string {
    assertToken('function name', fn);
    assertToken('usage record id', id);
    return `${this.usageRaw(month)}${ascendingMs(startedAt)}-${fn}-${id}.json`;
  }
  /**
   * Cleanup's running monthly totals, numbered 1, 2, 3…: the highest lists first and holds
   * everything folded so far (numbers, not times: two runs in one millisecond still order).
   */
  usageRollups(month: string): string {
    return `${this.prefix}usage/${assertMonth(month)}/rollups/`;
  }
  usageRollup(month: string, sequence: number): string {
    return `${this.usageRollups(month)}${descendingSequence(sequence)}.json`;
  }
  /** Objects and bytes per channel folder, as one cleanup run listed them. */
  storageSnapshots(): string {
    return `${this.prefix}usage/storage/`;
  }
  storageSnapshot(at: number, runId: string): string {
    assertToken('run id', runId);
    return `${this.storageSnapshots()}${descendingMs(at)}-${runId}.json`;
  }
  /** A channel's monthly budget override (LWW). */
  budget(channel: string): string {
    return `${this.prefix}budgets/${channelSegment(channel)}/budget.json`;
  }
  driftPlan(planId: string): string {
    assertToken('plan id', planId);
    return `${this.prefix}drift/plans/${planId}.json`;
  }
  driftActions(planId: string): string {
    assertToken('plan id', planId);
    return `${this.prefix}drift/actions/${planId}/`;
  }
  driftAction(planId: string, itemToken: string): string {
    assertToken('drift item', itemToken);
    return `${this.driftActions(planId)}${itemToken}.json`;
  }

  /** Scope of webhook sequences: a channel segment, or BUCKET_SCOPE. */
  eventScope(channel: string | null): string {
    return channel === null ? BUCKET_SCOPE : channelSegment(channel);
  }
  event(channel: string | null, id: string): string {
    assertEventId(id);
    return `${this.prefix}webhooks/events/${this.eventScope(channel)}/${id}.json`;
  }
  sequenceSlots(channel: string | null): string {
    return `${this.prefix}webhooks/seq/${this.eventScope(channel)}/`;
  }
  sequenceSlot(channel: string | null, n: number): string {
    return `${this.sequenceSlots(channel)}${descendingSequence(n)}`;
  }
  sequenceAssignment(channel: string | null, id: string): string {
    assertEventId(id);
    return `${this.prefix}webhooks/assigned/${this.eventScope(channel)}/${id}`;
  }
  outbox(): string {
    return `${this.prefix}webhooks/outbox/`;
  }
  outboxEntry(id: string): string {
    assertEventId(id);
    return `${this.outbox()}${id}.json`;
  }
  /** Claims on a delivery attempt of one event: only the claimant POSTs (shared/webhooks). */
  deliveryClaims(id: string): ClaimSeries {
    assertEventId(id);
    return new ClaimSeries(`${this.prefix}webhooks/claims/${id}/`);
  }
  delivered(id: string): string {
    assertEventId(id);
    return `${this.prefix}webhooks/delivered/${id}.json`;
  }
  abandoned(id: string): string {
    assertEventId(id);
    return `${this.prefix}webhooks/abandoned/${id}.json`;
  }
}
