/** What the ledger stores. Times are epoch milliseconds. Every record carries `v` (layout version). */
import type { InvocationUsage, StorageFigures, UsageTotals } from '../lifecycle/cost';
import type { DriftItem } from '../lifecycle/drift';
import type { VodPart } from '../lifecycle/types';
import type { VodStatus } from './keys';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The configuration a channel was created with, as far as lifecycle decisions need it. */
export interface ChannelConfigSummary {
  description: string;
  fragDuration: number;
  fragCount: number;
  playlistName: string;
  /** Whether high-frequency snapshots were configured (their MNS topic feeds on-snapshot). */
  snapshots: boolean;
}

/** One creation of a channel. A channel deleted and created again has a new generation. */
export interface ChannelRecord {
  v: 1;
  channel: string;
  /** Creation time; identifies this incarnation of the name. */
  generation: number;
  config: ChannelConfigSummary;
  /**
   * Set when the api created the channel over a folder that already held objects livecycle could
   * not account for, because the caller sent `adoptExistingFolder: true`. Cleanup never deletes
   * those: they were written before this generation's life began.
   */
  adoptedExistingFolder?: true;
  /**
   * What the folder held then, from one listing page: how many such objects (`truncated`: at least that many) and one
   * of them.
   */
  adoptedObjects?: AdoptedObjects;
}

export interface AdoptedObjects {
  count: number;
  truncated: boolean;
  sample: string;
}

/**
 * One observation of an RTMP push: `stat` (GetLiveChannelStat's ConnectedTime while live) or
 * `history` (a GetLiveChannelHistory record; its end may be provisional while the push runs).
 * Structurally a lifecycle `Push`: fold a channel's records with `mergePushes`.
 */
export interface PushRecord {
  v: 1;
  channel: string;
  /** The channel generation the push belongs to, when the observer knew it. */
  generation?: number;
  startTime: number;
  /** Absent for `stat` observations. */
  endTime?: number;
  remoteAddr: string;
  source: 'stat' | 'history';
  observedAt: number;
}

export interface VodRecord {
  v: 1;
  channel: string;
  broadcastId: string;
  generation?: number;
  status: VodStatus;
  /** The PostVodPlaylist calls (one per day of broadcast), as generate-vod planned them. */
  parts: VodPart[];
  /** The playlist viewers open when the broadcast was split into several parts. */
  parent?: { playlistName: string; key: string };
  /** Why a `failed` attempt failed. */
  error?: string;
  /**
   * On `ready`: the keys of the part playlists PostVodPlaylist wrote (a part with no fragment is
   * absent), so `vod.ready` can be announced again from the record alone.
   */
  written?: string[];
  recordedAt: number;
}

export interface SnapshotRecord {
  v: 1;
  channel: string;
  at: number;
  /** Where the JPG was written, when the notification said. */
  bucket?: string;
  objectKey?: string;
}

export interface DisableRecord {
  v: 1;
  channel: string;
  generation: number;
  /** Identity of the decision: the start of the idle period (idle) or the request time (api). */
  since: number;
  disabledAt: number;
  reason: 'idle' | 'api';
}

/** A channel generation was deleted; cleanup removes its objects after the grace period. */
export interface TombstoneRecord {
  v: 1;
  channel: string;
  generation: number;
  deletedAt: number;
}

/** Cleanup finished removing a deleted generation's objects. */
export interface CleanedRecord {
  v: 1;
  channel: string;
  generation: number;
  cleanedAt: number;
  runId: string;
  objectsDeleted: number;
  bytesDeleted: number;
}

/** A channel cleanup found missing from ListLiveChannel without a tombstone (deleted outside livecycle). */
export interface MissingRecord {
  v: 1;
  channel: string;
  since: number;
}

/** Keeps cleanup (orphans and VOD retention) away from a channel's objects. */
export interface HoldRecord {
  v: 1;
  channel: string;
  holdId: string;
  reason: string;
  setAt: number;
  /** The hold lapses at this time; absent = until cleared. */
  until?: number;
}

export interface CleanupReport {
  runId: string;
  startedAt: number;
  finishedAt: number;
  dryRun: boolean;
  [field: string]: JsonValue;
}

/**
 * disable-idle's cache: disabled channels whose latest disable is announced (its event recorded,
 * so the outbox delivers it), each with the channel's LastModified when that was checked.
 * Re-derivable from the ledger, so last-writer-wins.
 */
export interface IdleState {
  updatedAt: number;
  announced: Record<string, number>;
}

/** poll-stat's view of one channel at its last poll. */
export interface ChannelObservation {
  status: 'Idle' | 'Live' | 'Disabled';
  connectedTime?: number;
  observedAt: number;
}

/** poll-stat's per-shard cache; re-derivable from OSS, so last-writer-wins. */
export interface PollState {
  updatedAt: number;
  channels: Record<string, ChannelObservation>;
}

/** One action an operator took in the console (disable, enable, a cleanup plan), and who took it. */
export interface ConsoleActionRecord {
  v: 1;
  channel: string;
  action: string;
  /** The console session: how it signed in (`token`, `login-link`) and its id. */
  who: string;
  at: number;
  outcome: string;
}

export const EVENT_TYPES = [
  'channel.created',
  'stream.started',
  'stream.ended',
  'channel.disabled',
  'vod.ready',
  'vod.failed',
  'channel.deleted',
  'cleanup.completed',
  'channel.budget_warning',
  'channel.budget_exceeded',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A lifecycle event as recorded, before it has a sequence number. */
export interface StoredEvent {
  v: 1;
  id: string;
  type: EventType;
  bucket: string;
  /** null for bucket-wide events (cleanup.completed). */
  channel: string | null;
  /** What the event is about, e.g. the broadcast id; the id is a hash of type, bucket, channel and fact. */
  fact: string;
  occurredAt: number;
  data: { [key: string]: JsonValue };
}

/**
 * A claim on one delivery attempt of an event (`webhooks/claims/<id>/`): only its claimant POSTs.
 * A failed attempt releases its claim by creating the next one already lapsed (`released`); a
 * claimant that died blocks others until `expiresAt`.
 */
export interface DeliveryClaim {
  v: 1;
  /** Random per attempt, so a claimant recognises its own claim after a lost PUT response. */
  claimId: string;
  claimedAt: number;
  expiresAt: number;
  released?: true;
  /** On a released claim: the failed run's HTTP attempts. */
  tries?: DeliveryTry[];
}

/** One HTTP attempt of a delivery: when it ended, and the receiver's status or the error. */
export interface DeliveryTry {
  at: number;
  status?: number;
  error?: string;
}

export interface DeliveryRecord {
  v: 1;
  id: string;
  channel: string | null;
  sequence: number;
  at: number;
  attempts: number;
  /** Last HTTP status or error, for abandoned events. */
  lastError?: string;
  /** This run's HTTP attempts (earlier failed runs' are on their released claims). */
  tries?: DeliveryTry[];
}

/**
 * Counted OSS requests and FC usage in one bucket (docs/cost.md): v2, one instance's batch of
 * invocations already folded into totals; v1, one invocation (written before batching; still
 * read until cleanup has folded the month's last ones).
 */
export type UsageRecord = UsageBatchRecord | InvocationUsageRecord;

export interface UsageBatchRecord {
  v: 2;
  month: string;
  /** Chosen when the batch is sealed, kept by every retry of its write. */
  batchId: string;
  function: string;
  /** When the batch's first invocation started. */
  startedAt: number;
  invocations: number;
  totals: UsageTotals;
}

export interface InvocationUsageRecord extends InvocationUsage {
  v: 1;
  month: string;
  requestId: string;
}

/** Cleanup's running total of a month's usage: everything folded so far. */
export interface UsageRollup {
  v: 1;
  month: string;
  /** 1 for the month's first rollup, then +1 each. */
  sequence: number;
  runId: string;
  at: number;
  totals: UsageTotals;
  /** Raw usage keys counted in `totals` that were still stored when it was written (deleted after). */
  folded: string[];
}

/** Objects and bytes per channel folder, from one cleanup run's listing. */
export interface StorageSnapshot {
  v: 1;
  runId: string;
  finishedAt: number;
  /** The run listed from the first folder (not resumed from a cursor). */
  fromStart: boolean;
  /** The run reached the last folder. */
  complete: boolean;
  channels: Record<string, StorageFigures & { listedAt: number }>;
}

/** A channel's monthly budget, set through the api (overrides COST_BUDGET_CNY; null: no budget). */
export interface BudgetRecord {
  v: 1;
  channel: string;
  cnyPerMonth: number | null;
  setAt: number;
  by: string;
}

/** What a drift dry run showed; `drift --fix <planId>` applies exactly these items. */
export interface DriftPlan {
  v: 1;
  planId: string;
  createdAt: number;
  by: string;
  items: DriftItem[];
}

/** One drift action carried out (or refused), and who asked for it. */
export interface DriftActionRecord {
  v: 1;
  planId: string;
  itemId: string;
  action: string;
  by: string;
  at: number;
  outcome: 'applied' | 'skipped';
  detail: string;
}
