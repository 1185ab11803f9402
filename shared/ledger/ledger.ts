/**
 * The durable record of one bucket's channels, kept in the bucket itself under the ledger
 * prefix. Facts are small objects created once (concurrent and repeated writers converge on one
 * object, nobody's update is lost); the few mutable documents are caches whose last-writer-wins
 * is harmless. The layout and the reasoning per key are in docs/ledger.md.
 */
import { currentClock } from '../clock';
import { claimNext } from './claims';
import {
  DEFAULT_LEDGER_PREFIX,
  LedgerKeys,
  VOD_STATUSES,
  ascendingMs,
  channelFromSegment,
  parseDescendingMs,
  parseDescendingSequence,
  type VodStatus,
} from './keys';
import type {
  AdoptedObjects,
  ChannelConfigSummary,
  ChannelRecord,
  CleanedRecord,
  CleanupReport,
  ConsoleActionRecord,
  DeliveryClaim,
  DeliveryRecord,
  DeliveryTry,
  DisableRecord,
  HoldRecord,
  IdleState,
  MissingRecord,
  PollState,
  PushRecord,
  SnapshotRecord,
  StoredEvent,
  TombstoneRecord,
  VodRecord,
} from './records';
import { JsonStore, LedgerCorruptError, type CreateOutcome, type LedgerObjects } from './store';
import { CostLedger } from './usage';

/** Outcome of recording a fact, with the fact as stored (the first writer's version). */
export interface Recorded<T> {
  outcome: CreateOutcome;
  record: T;
}

/** A channel name and generation, read from keys alone (no GET). */
export interface ChannelGenerationRef {
  /** undefined when the name is too long to be kept verbatim in the key (read the record). */
  channel: string | undefined;
  generation: number;
  key: string;
}

/** Later statuses win when a broadcast has several VOD records. */
const VOD_PRECEDENCE: Record<VodStatus, number> = { pending: 0, failed: 1, ready: 2 };

/** Sequence allocation gives up after this many lost races (each is another writer's success). */
const MAX_SEQUENCE_RACES = 100;

export class Ledger {
  readonly keys: LedgerKeys;
  /** Usage, storage snapshots, budgets and drift records (docs/cost.md). */
  readonly cost: CostLedger;
  private readonly store: JsonStore;

  constructor(objects: LedgerObjects, prefix: string = DEFAULT_LEDGER_PREFIX) {
    this.keys = new LedgerKeys(prefix);
    this.store = new JsonStore(objects);
    this.cost = new CostLedger(objects, this.keys);
  }

  // ── channels ──────────────────────────────────────────────────────────────────────────────

  /** Records a channel creation; `generation` is the creation time. */
  recordChannelCreated(input: {
    channel: string;
    generation: number;
    config: ChannelConfigSummary;
    adoptedObjects?: AdoptedObjects;
  }): Promise<Recorded<ChannelRecord>> {
    const record: ChannelRecord = { v: 1, channel: input.channel, generation: input.generation, config: input.config };
    if (input.adoptedObjects)
      Object.assign(record, { adoptedExistingFolder: true, adoptedObjects: input.adoptedObjects });
    return this.store.createOnceAndRead(this.keys.channelGeneration(input.channel, input.generation), record);
  }

  /** The latest generation of a channel (one LIST + one GET), or undefined if never created. */
  async getChannel(channel: string): Promise<ChannelRecord | undefined> {
    const key = await this.store.firstKey(this.keys.channelGenerations(channel));
    return key === undefined ? undefined : this.store.read<ChannelRecord>(key);
  }

  async getChannelGeneration(channel: string, generation: number): Promise<ChannelRecord | undefined> {
    return this.store.read<ChannelRecord>(this.keys.channelGeneration(channel, generation));
  }

  /** Every generation of a channel, newest first. */
  listGenerations(channel: string): Promise<ChannelRecord[]> {
    return this.readAll<ChannelRecord>(this.keys.channelGenerations(channel));
  }

  /** The latest generation of every channel ever created in this bucket, in key order, from keys alone. */
  async *listChannels(): AsyncGenerator<ChannelGenerationRef> {
    const root = this.keys.channels();
    let previousSegment: string | undefined;
    for await (const key of this.store.keys(root)) {
      const [segment, file] = key.slice(root.length).split('/');
      if (segment === undefined || file === undefined)
        throw new LedgerCorruptError(key, 'unexpected key under channels/');
      // Generations sort newest first within a channel, so the first key per segment is the latest.
      if (segment === previousSegment) continue;
      previousSegment = segment;
      yield { channel: channelFromSegment(segment), generation: parseDescendingMs(file.replace(/\.json$/, '')), key };
    }
  }

  // ── pushes and liveness ───────────────────────────────────────────────────────────────────

  /**
   * Records a push observation. Each (start, source, end) is recorded once, so a History record
   * whose provisional end later grows is recorded again with the new end; `mergePushes` from
   * shared/lifecycle folds a channel's records into pushes (latest end wins).
   */
  recordPush(push: Omit<PushRecord, 'v' | 'observedAt'> & { observedAt?: number }): Promise<CreateOutcome> {
    const record: PushRecord = { v: 1, ...push, observedAt: push.observedAt ?? currentClock().now() };
    return this.store.createOnce(this.keys.push(push.channel, push.startTime, push.source, push.endTime), record);
  }

  /** Every push observation, oldest start first; `since` bounds startTime (inclusive). */
  listPushes(channel: string, opts: { since?: number } = {}): Promise<PushRecord[]> {
    const prefix = this.keys.pushes(channel);
    // `<prefix><start>` sorts just before every key of pushes starting at or after `since`.
    return this.readAll<PushRecord>(prefix, opts.since === undefined ? undefined : prefix + ascendingMs(opts.since));
  }

  /** Notes that the channel was live at `at`. Idempotent per millisecond. */
  recordSeenLive(channel: string, at: number): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.seenLiveAt(channel, at), { v: 1, channel, at });
  }

  /** The latest time the channel was recorded live, from one 1-key LIST. */
  async lastSeenLive(channel: string): Promise<number | undefined> {
    const prefix = this.keys.seenLive(channel);
    const key = await this.store.firstKey(prefix);
    return key === undefined ? undefined : parseDescendingMs(key.slice(prefix.length).replace(/\.json$/, ''));
  }

  // ── VOD ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Records a VOD status for a broadcast. Each status is recorded once; the reported status of a
   * broadcast is the most advanced one (ready > failed > pending), so a retry after a failure can
   * still record `ready`.
   */
  recordVod(input: Omit<VodRecord, 'v' | 'recordedAt'>): Promise<Recorded<VodRecord>> {
    const record: VodRecord = { v: 1, ...input, recordedAt: currentClock().now() };
    return this.store.createOnceAndRead(this.keys.vodStatus(input.channel, input.broadcastId, input.status), record);
  }

  async getVod(channel: string, broadcastId: string): Promise<VodRecord | undefined> {
    const prefix = this.keys.vod(channel, broadcastId);
    let best: { key: string; rank: number } | undefined;
    for await (const key of this.store.keys(prefix)) {
      const rank = VOD_PRECEDENCE[vodStatusOf(key, prefix)];
      if (!best || rank > best.rank) best = { key, rank };
    }
    return best && this.store.read<VodRecord>(best.key);
  }

  /** The most advanced VOD status of every broadcast of the channel, by broadcast id, from keys alone. */
  async listVodStatuses(channel: string): Promise<Map<string, VodStatus>> {
    const prefix = this.keys.vods(channel);
    const best = new Map<string, VodStatus>();
    for await (const key of this.store.keys(prefix)) {
      const rest = key.slice(prefix.length);
      const broadcastId = rest.slice(0, rest.lastIndexOf('/'));
      const status = vodStatusOf(key, `${prefix}${broadcastId}/`);
      const seen = best.get(broadcastId);
      if (!seen || VOD_PRECEDENCE[status] > VOD_PRECEDENCE[seen]) best.set(broadcastId, status);
    }
    return best;
  }

  /** The VOD record of every broadcast of the channel (most advanced status each), by broadcast id. */
  async listVods(channel: string): Promise<VodRecord[]> {
    const out: VodRecord[] = [];
    for (const [broadcastId, status] of await this.listVodStatuses(channel)) {
      const record = await this.store.read<VodRecord>(this.keys.vodStatus(channel, broadcastId, status));
      if (record) out.push(record);
    }
    return out;
  }

  // ── snapshots ─────────────────────────────────────────────────────────────────────────────

  recordSnapshot(input: Omit<SnapshotRecord, 'v'>): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.snapshot(input.channel, input.at), {
      v: 1,
      ...input,
    } satisfies SnapshotRecord);
  }

  /** The newest snapshot (one 1-key LIST + one GET). */
  async latestSnapshot(channel: string): Promise<SnapshotRecord | undefined> {
    const key = await this.store.firstKey(this.keys.snapshots(channel));
    return key === undefined ? undefined : this.store.read<SnapshotRecord>(key);
  }

  // ── disables ──────────────────────────────────────────────────────────────────────────────

  /** Records a disable decision, once per (generation, since), however many runs make it. */
  recordDisabled(input: Omit<DisableRecord, 'v'>): Promise<Recorded<DisableRecord>> {
    return this.store.createOnceAndRead(this.keys.disable(input.channel, input.generation, input.since), {
      v: 1,
      ...input,
    });
  }

  /** Disable records of a channel, oldest generation and idle period first. */
  async listDisabled(channel: string): Promise<DisableRecord[]> {
    return this.readAll<DisableRecord>(this.keys.disables(channel));
  }

  /** The channel's latest disable decision (newest generation, then newest `since`): a key listing and one GET. */
  async latestDisabled(channel: string): Promise<DisableRecord | undefined> {
    let last: string | undefined;
    for await (const key of this.store.keys(this.keys.disables(channel))) last = key;
    return last === undefined ? undefined : this.store.read<DisableRecord>(last);
  }

  getIdleState(): Promise<IdleState | undefined> {
    return this.store.read<IdleState>(this.keys.idleState());
  }

  /** Last-writer-wins: a lost entry only makes a later run check that channel's announcement again. */
  putIdleState(state: IdleState): Promise<void> {
    return this.store.put(this.keys.idleState(), state);
  }

  // ── tombstones ────────────────────────────────────────────────────────────────────────────

  /** Records that a channel generation was deleted; the first deletedAt recorded wins. */
  recordTombstone(input: Omit<TombstoneRecord, 'v'>): Promise<Recorded<TombstoneRecord>> {
    return this.store.createOnceAndRead(this.keys.tombstone(input.channel, input.generation), { v: 1, ...input });
  }

  getTombstone(channel: string, generation: number): Promise<TombstoneRecord | undefined> {
    return this.store.read<TombstoneRecord>(this.keys.tombstone(channel, generation));
  }

  /** Every tombstone of one channel (cleaned ones included), oldest generation first. */
  listChannelTombstones(channel: string): Promise<TombstoneRecord[]> {
    return this.readAll<TombstoneRecord>(this.keys.channelTombstones(channel));
  }

  /**
   * Tombstones across all channels, in key order. With `pendingOnly`, those cleanup has not yet
   * marked cleaned; decided from two key listings, so only pending tombstones cost a GET.
   */
  async *listTombstones(opts: { pendingOnly?: boolean } = {}): AsyncGenerator<TombstoneRecord> {
    const cleaned = new Set<string>();
    if (opts.pendingOnly) {
      const root = this.keys.tombstonesCleaned();
      for await (const key of this.store.keys(root)) cleaned.add(key.slice(root.length));
    }
    const root = this.keys.tombstones();
    for await (const key of this.store.keys(root)) {
      if (cleaned.has(key.slice(root.length))) continue;
      const record = await this.store.read<TombstoneRecord>(key);
      if (record) yield record;
    }
  }

  /** Every tombstoned generation as `<channel segment>/<generation>`, from key listings alone. */
  async tombstonedGenerations(): Promise<Set<string>> {
    const root = this.keys.tombstones();
    const out = new Set<string>();
    for await (const key of this.store.keys(root)) {
      const [segment, file] = key.slice(root.length).split('/');
      if (segment !== undefined && file !== undefined) out.add(`${segment}/${Number(file.replace(/\.json$/, ''))}`);
    }
    return out;
  }

  /** Marks a deleted generation's objects as cleaned up; listTombstones({pendingOnly}) then skips it. */
  recordTombstoneCleaned(input: Omit<CleanedRecord, 'v'>): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.tombstoneCleaned(input.channel, input.generation), {
      v: 1,
      ...input,
    } satisfies CleanedRecord);
  }

  /** Notes that the channel is missing from ListLiveChannel; the first sighting is kept. */
  recordChannelMissing(channel: string, since: number): Promise<Recorded<MissingRecord>> {
    return this.store.createOnceAndRead(this.keys.channelMissing(channel), { v: 1, channel, since });
  }

  /** When cleanup first found the channel missing, if it still is. */
  async channelMissingSince(channel: string): Promise<number | undefined> {
    return (await this.store.read<MissingRecord>(this.keys.channelMissing(channel)))?.since;
  }

  /** The channel exists again: forget the sighting, so a later disappearance starts a fresh grace period. */
  clearChannelMissing(channel: string): Promise<void> {
    return this.store.delete(this.keys.channelMissing(channel));
  }

  // ── holds ─────────────────────────────────────────────────────────────────────────────────

  /** Places (or replaces) the hold `holdId`. Holds by different ids are independent objects. */
  async setHold(input: { channel: string; holdId: string; reason: string; until?: number }): Promise<HoldRecord> {
    const record: HoldRecord = { v: 1, ...input, setAt: currentClock().now() };
    await this.store.put(this.keys.hold(input.channel, input.holdId), record);
    return record;
  }

  clearHold(channel: string, holdId: string): Promise<void> {
    return this.store.delete(this.keys.hold(channel, holdId));
  }

  /** Every hold on the channel, lapsed ones included. */
  listHolds(channel: string): Promise<HoldRecord[]> {
    return this.readAll<HoldRecord>(this.keys.holds(channel));
  }

  /** Every hold of every channel (lapsed ones included), in key order: channel by channel. */
  async *listAllHolds(): AsyncGenerator<HoldRecord> {
    for await (const key of this.store.keys(this.keys.allHolds())) {
      const record = await this.store.read<HoldRecord>(key);
      if (record) yield record;
    }
  }

  /** Whether any hold is in force at `now`. */
  async isHeld(channel: string, now: number = currentClock().now()): Promise<boolean> {
    return (await this.listHolds(channel)).some((h) => h.until === undefined || h.until > now);
  }

  // ── cleanup ───────────────────────────────────────────────────────────────────────────────

  putCleanupReport(report: CleanupReport): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.cleanupReport(report.finishedAt, report.runId), report);
  }

  /** The report with the latest finishedAt (one 1-key LIST + one GET). */
  async latestCleanupReport(): Promise<CleanupReport | undefined> {
    const key = await this.store.firstKey(this.keys.cleanupReports());
    return key === undefined ? undefined : this.store.read<CleanupReport>(key);
  }

  /** Where cleanup scope `name` stopped last time (an object key to resume after). */
  async getCleanupCursor(name: string): Promise<string | undefined> {
    return (await this.store.read<{ after: string }>(this.keys.cleanupCursor(name)))?.after;
  }

  /** Last-writer-wins: a stale cursor only makes a later run repeat idempotent deletes. */
  putCleanupCursor(name: string, after: string): Promise<void> {
    return this.store.put(this.keys.cleanupCursor(name), { after, updatedAt: currentClock().now() });
  }

  clearCleanupCursor(name: string): Promise<void> {
    return this.store.delete(this.keys.cleanupCursor(name));
  }

  // ── poll state ────────────────────────────────────────────────────────────────────────────

  getPollState(shard: string): Promise<PollState | undefined> {
    return this.store.read<PollState>(this.keys.pollState(shard));
  }

  /** Last-writer-wins: the next poll re-derives every field from OSS; facts it implies are create-once. */
  putPollState(shard: string, state: PollState): Promise<void> {
    return this.store.put(this.keys.pollState(shard), state);
  }

  /**
   * Asks poll-stat to poll the channel every tick again (api actions, snapshots of an idle
   * channel): one small overwrite; losing one to a concurrent writer loses nothing, both wake.
   */
  wakePoll(channel: string, at: number): Promise<void> {
    return this.store.put(this.keys.pollWake(channel), { at });
  }

  /**
   * Every wake marker: channel key segment → wake time (the marker's LastModified, OSS time), from key listings alone.
   */
  async listPollWakes(): Promise<Map<string, number>> {
    const prefix = this.keys.pollWakes();
    const wakes = new Map<string, number>();
    for await (const { key, lastModified } of this.store.entries(prefix))
      wakes.set(key.slice(prefix.length), lastModified);
    return wakes;
  }

  /** Removes a wake marker that no longer changes the schedule (idempotent). */
  clearPollWake(segment: string): Promise<void> {
    return this.store.delete(`${this.keys.pollWakes()}${segment}`);
  }

  /** Every shard's poll state (`poll/<shard>.json`), for views over all channels. */
  async listPollStates(): Promise<PollState[]> {
    const prefix = `${this.keys.prefix}poll/`;
    const keys: string[] = [];
    for await (const key of this.store.keys(prefix)) if (!key.slice(prefix.length).includes('/')) keys.push(key);
    const states = await Promise.all(keys.map((key) => this.store.read<PollState>(key)));
    return states.filter((s): s is PollState => s !== undefined);
  }

  // ── console ───────────────────────────────────────────────────────────────────────────────

  /** Marks a console login link used: 'created' the first time only, so a link signs in once. */
  useConsoleLogin(nonce: string, at: number): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.consoleLogin(nonce), { v: 1, usedAt: at });
  }

  recordConsoleAction(input: Omit<ConsoleActionRecord, 'v'>, id: string): Promise<CreateOutcome> {
    const record: ConsoleActionRecord = { v: 1, ...input };
    return this.store.createOnce(this.keys.consoleAction(input.channel, input.at, id), record);
  }

  listConsoleActions(channel: string): Promise<ConsoleActionRecord[]> {
    return this.readAll<ConsoleActionRecord>(this.keys.consoleActions(channel));
  }

  /** Events recorded for a channel (any order of ids). */
  listEvents(channel: string): Promise<StoredEvent[]> {
    return this.readAll<StoredEvent>(`${this.keys.prefix}webhooks/events/${this.keys.eventScope(channel)}/`);
  }

  /**
   * Where an event's delivery stands: delivered or abandoned (with its record), else pending; the
   * attempts claimed so far (a failed attempt's release is a claim too, marked `released`); and
   * every recorded HTTP attempt, oldest first, from the released claims and the final record.
   */
  async deliveryOf(id: string): Promise<{
    status: 'delivered' | 'abandoned' | 'pending';
    record?: DeliveryRecord;
    attempts: number;
    tries: DeliveryTry[];
  }> {
    const [delivered, abandoned, claims] = await Promise.all([
      this.store.read<DeliveryRecord>(this.keys.delivered(id)),
      this.store.read<DeliveryRecord>(this.keys.abandoned(id)),
      this.readAll<DeliveryClaim>(this.keys.deliveryClaims(id).prefix),
    ]);
    const record = delivered ?? abandoned;
    const attempts = record?.attempts ?? claims.filter((c) => !c.released).length;
    const status = delivered ? 'delivered' : abandoned ? 'abandoned' : 'pending';
    // Claims list newest first (descSeq keys); the final record's run came after all of them.
    const tries = [...claims.toReversed().flatMap((c) => c.tries ?? []), ...(record?.tries ?? [])];
    return record ? { status, record, attempts, tries } : { status, attempts, tries };
  }

  // ── webhook events (used by shared/webhooks) ───────────────────────────────────────────────

  /** Records the event; a duplicate gets the first writer's version back. */
  recordEvent(event: StoredEvent): Promise<Recorded<StoredEvent>> {
    return this.store.createOnceAndRead(this.keys.event(event.channel, event.id), event);
  }

  getEvent(channel: string | null, id: string): Promise<StoredEvent | undefined> {
    return this.store.read<StoredEvent>(this.keys.event(channel, id));
  }

  /** Puts the event in the outbox (idempotent); it leaves once delivered or abandoned. */
  enqueueEvent(event: StoredEvent): Promise<CreateOutcome> {
    return this.store.createOnce(this.keys.outboxEntry(event.id), event);
  }

  /** Events waiting for delivery, in id order. */
  async *listOutbox(): AsyncGenerator<StoredEvent> {
    for await (const key of this.store.keys(this.keys.outbox())) {
      const event = await this.store.read<StoredEvent>(key);
      if (event) yield event;
    }
  }

  async isDelivered(id: string): Promise<boolean> {
    return (await this.store.read<DeliveryRecord>(this.keys.delivered(id))) !== undefined;
  }

  async recordDelivered(record: Omit<DeliveryRecord, 'v'>): Promise<void> {
    await this.store.createOnce(this.keys.delivered(record.id), { v: 1, ...record } satisfies DeliveryRecord);
    await this.removeFromOutbox(record.id);
  }

  async recordAbandoned(record: Omit<DeliveryRecord, 'v'>): Promise<void> {
    await this.store.createOnce(this.keys.abandoned(record.id), { v: 1, ...record } satisfies DeliveryRecord);
    await this.removeFromOutbox(record.id);
  }

  /** Idempotent; for an entry whose delivery is already recorded. */
  removeFromOutbox(id: string): Promise<void> {
    return this.store.delete(this.keys.outboxEntry(id));
  }

  /**
   * Claims the next delivery attempt of event `id`: the claim's number when no other attempt's
   * claim is in force and ours was created first (of concurrent claimers exactly one gets it),
   * else undefined. Numbered create-once claims, see shared/ledger/claims.ts.
   */
  async claimDelivery(
    id: string,
    claim: { claimId: string; claimedAt: number; expiresAt: number },
  ): Promise<number | undefined> {
    const record: DeliveryClaim = { v: 1, ...claim };
    const outcome = await claimNext(this.store, this.keys.deliveryClaims(id), record, {
      now: claim.claimedAt,
      isOurs: (held) => held.claimId === claim.claimId,
    });
    return outcome.claimed ? outcome.number : undefined;
  }

  /**
   * Ends claim `number` early (a failed attempt), so the next drain may retry at once: creates
   * the following claim already lapsed, holding the attempt's `tries`. If someone took over
   * meanwhile, theirs stands.
   */
  async releaseDelivery(
    id: string,
    number: number,
    claim: { claimId: string; at: number; tries: DeliveryTry[] },
  ): Promise<void> {
    const record: DeliveryClaim = {
      v: 1,
      claimId: claim.claimId,
      claimedAt: claim.at,
      expiresAt: claim.at,
      released: true,
      tries: claim.tries,
    };
    await this.store.createOnce(this.keys.deliveryClaims(id).key(number + 1), record);
  }

  /**
   * The event's sequence number in its scope (a channel, or the bucket for channel = null):
   * 1, 2, 3… without gaps, and the same number every time for the same id.
   *
   * Slots `seq/<scope>/<desc n>` are claimed create-once with the id as body; the winner then
   * writes `assigned/<scope>/<id>` = n. Before claiming slot n+1 a writer makes sure slot n's
   * assignment exists, so by the time anyone can claim a new slot, every id holding an older slot
   * has its assignment — which the claimant checks for its own id first. Hence no id ever holds
   * two slots, and every slot belongs to exactly one id.
   */
  async assignSequence(channel: string | null, id: string): Promise<number> {
    const assignmentKey = this.keys.sequenceAssignment(channel, id);
    const slots = this.keys.sequenceSlots(channel);
    for (let race = 0; race < MAX_SEQUENCE_RACES; race++) {
      const assigned = await this.store.read<{ sequence: number }>(assignmentKey);
      if (assigned) return assigned.sequence;

      let next = 1;
      const newestKey = await this.store.firstKey(slots);
      if (newestKey !== undefined) {
        const newest = parseDescendingSequence(newestKey.slice(slots.length));
        const holder = await this.store.read<{ id: string }>(newestKey);
        if (!holder) throw new LedgerCorruptError(newestKey, 'listed, then not found');
        await this.store.createOnce(this.keys.sequenceAssignment(channel, holder.id), { sequence: newest });
        if (holder.id === id) return newest;
        const assignedMeanwhile = await this.store.read<{ sequence: number }>(assignmentKey);
        if (assignedMeanwhile) return assignedMeanwhile.sequence;
        next = newest + 1;
      }
      if ((await this.store.createOnce(this.keys.sequenceSlot(channel, next), { id })) === 'created') {
        const { record } = await this.store.createOnceAndRead(assignmentKey, { sequence: next });
        return record.sequence;
      }
      // Someone else took slot `next` (perhaps a duplicate of this very event): look again.
    }
    throw new Error(
      `could not assign a webhook sequence for ${id} after ${MAX_SEQUENCE_RACES} concurrent claims in ${slots}`,
    );
  }

  private async readAll<T>(prefix: string, startAfter?: string): Promise<T[]> {
    const out: T[] = [];
    for await (const key of this.store.keys(prefix, { startAfter })) {
      const record = await this.store.read<T>(key);
      if (record) out.push(record);
    }
    return out;
  }
}

function vodStatusOf(key: string, broadcastPrefix: string): VodStatus {
  const status = key.slice(broadcastPrefix.length).replace(/\.json$/, '');
  if (!(VOD_STATUSES as readonly string[]).includes(status))
    throw new LedgerCorruptError(key, `unknown VOD status ${JSON.stringify(status)}`);
  return status as VodStatus;
}
