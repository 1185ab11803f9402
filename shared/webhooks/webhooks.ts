/**
 * Outbound lifecycle webhooks. An event is a fact (a broadcast ended, a channel was deleted…):
 * its id is a hash of what it is about, so every retried or duplicated invocation that reports
 * the same fact produces the same id, the same sequence number and, once delivered, no re-send.
 *
 * Durability: before the first delivery attempt the event is written to the ledger's outbox;
 * a successful delivery records it as delivered and removes it from the outbox. A delivery that
 * fails is logged and stays in the outbox for `drainOutbox()` in a later run; it never fails the
 * calling job. Only failing to record the event at all (OSS unavailable) throws, so the caller's
 * invocation is retried and the event is not lost.
 *
 * Once under concurrency: every delivery attempt first claims the event (Ledger.claimDelivery,
 * numbered create-once claims), and only the claimant POSTs. Duplicated or overlapping
 * invocations that find a claim in force leave the event to it. A failed attempt releases its
 * claim so the next drain retries; a claimant that died blocks for `claimTimeoutMs`, after which
 * a drain takes over with the next numbered claim.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from '../oss/http';
import { currentClock } from '../clock';
import type { Logger } from '../log';
import type { Ledger } from '../ledger/ledger';
import type { DeliveryTry, EventType, StoredEvent } from '../ledger/records';
import type { EventData, WebhookPayload } from './events';
import { EVENT_TYPE_HEADER, signWebhook } from './signature';

export type { WebhookPayload } from './events';

/** An event to announce; its `data` is the type's (shared/webhooks/events.ts). */
export type EmitInput = {
  [T in EventType]: {
    type: T;
    /** null for bucket-wide events (cleanup.completed). */
    channel: string | null;
    /**
     * What makes this event unique among events of its type on this channel, e.g. the channel
     * generation (channel.created/deleted), the broadcast id (stream.*, vod.ready), the run id
     * (cleanup.completed). Same fact → same event id.
     */
    fact: string;
    /** When the fact happened (epoch ms), taken from the fact, not from "now", so duplicates agree. */
    occurredAt: number;
    data: EventData<T>;
  };
}[EventType];

/** The EmitInput of one event type. */
export type EmitInputOf<T extends EventType> = Extract<EmitInput, { type: T }>;

export interface DeliveryPolicy {
  /** HTTP attempts per delivery (within one run). */
  maxAttempts: number;
  /** Back-off before attempt n+1 is about baseDelayMs × 2^(n−1), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per attempt, connect to response end. */
  timeoutMs: number;
  /** Events still undeliverable this long after they occurred are moved out of the outbox. */
  abandonAfterMs: number;
  /**
   * How long (lifecycle clock) an attempt's claim keeps others from POSTing the event: longer
   * than the longest attempt (`worstCaseAttemptMs`), so a live claimant is never overtaken; after
   * it, a claimant that died is replaced by the next drain.
   */
  claimTimeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  timeoutMs: 5_000,
  abandonAfterMs: 3 * 24 * 3600 * 1000,
  claimTimeoutMs: 60_000,
};

/** The longest one delivery attempt can take: every HTTP attempt times out after the longest back-offs. */
export function worstCaseAttemptMs(policy: DeliveryPolicy): number {
  let total = policy.maxAttempts * policy.timeoutMs;
  for (let attempt = 2; attempt <= policy.maxAttempts; attempt++)
    total += Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 2));
  return total;
}

/** `in-flight`: another invocation holds the delivery claim; it delivers, or a later drain retries. */
export type DeliveryOutcome = 'delivered' | 'already-delivered' | 'in-flight' | 'queued' | 'abandoned' | 'disabled';

export interface EmitResult {
  id: string;
  outcome: DeliveryOutcome;
  /** Absent when this call did not attempt the delivery, or numbering failed (the outbox retries it). */
  sequence?: number;
}

export interface DrainResult {
  delivered: number;
  queued: number;
  abandoned: number;
}

export interface WebhooksOptions {
  ledger: Ledger;
  bucket: string;
  /** undefined disables webhooks: emit() does nothing. */
  url: string | undefined;
  /** `whsec_<base64>`; each adds a v1 signature (rotation). */
  secrets: readonly string[];
  logger: Logger;
  policy?: Partial<DeliveryPolicy>;
}

/** `evt_` + 128 bits of SHA-256 over what the event is about. */
export function eventId(type: EventType, bucket: string, channel: string | null, fact: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([type, bucket, channel, fact]))
    .digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

export function toPayload(event: StoredEvent, sequence: number): WebhookPayload {
  // A recorded event was emitted with its type's data (EmitInput), so the pair matches.
  return {
    id: event.id,
    type: event.type,
    channel: event.channel,
    bucket: event.bucket,
    sequence,
    occurredAt: new Date(event.occurredAt).toISOString(),
    data: event.data,
  } as WebhookPayload;
}

/** A response status worth another attempt: the receiver may recover. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class Webhooks {
  private readonly policy: DeliveryPolicy;
  private readonly ledger: Ledger;
  private readonly bucket: string;
  private readonly url: string | undefined;
  private readonly secrets: readonly string[];
  private readonly log: Logger;

  constructor(opts: WebhooksOptions) {
    if (opts.url && opts.secrets.length === 0)
      throw new Error('webhooks need at least one signing secret when a URL is configured');
    this.ledger = opts.ledger;
    this.bucket = opts.bucket;
    this.url = opts.url;
    this.secrets = opts.secrets;
    this.log = opts.logger.child({ component: 'webhooks', bucket: opts.bucket });
    this.policy = { ...DEFAULT_DELIVERY_POLICY, ...opts.policy };
    if (this.policy.claimTimeoutMs <= worstCaseAttemptMs(this.policy)) {
      throw new Error(
        `webhook claimTimeoutMs (${this.policy.claimTimeoutMs}) must exceed the longest delivery attempt (${worstCaseAttemptMs(this.policy)} ms)`,
      );
    }
  }

  /** Records the event and tries to deliver it now. Throws only if the event cannot be recorded. */
  async emit(input: EmitInput): Promise<EmitResult> {
    const id = eventId(input.type, this.bucket, input.channel, input.fact);
    if (!this.url) return { id, outcome: 'disabled' };
    if (await this.ledger.isDelivered(id)) return { id, outcome: 'already-delivered' };

    const event: StoredEvent = {
      v: 1,
      id,
      type: input.type,
      bucket: this.bucket,
      channel: input.channel,
      fact: input.fact,
      occurredAt: input.occurredAt,
      // The ledger stores any JSON; the type guarantees the event's own shape.
      data: input.data as StoredEvent['data'],
    };
    // Outbox first: if we die after this, drainOutbox() still has the whole event.
    await this.ledger.enqueueEvent(event);
    const { record } = await this.ledger.recordEvent(event);
    return this.deliverRecorded(record, this.url);
  }

  /**
   * Retries what earlier runs could not deliver. Call at the end of a run; cheap when empty. An
   * event another invocation holds the claim on is left to it and counted as queued.
   */
  async drainOutbox(opts: { maxEvents?: number } = {}): Promise<DrainResult> {
    const result: DrainResult = { delivered: 0, queued: 0, abandoned: 0 };
    if (!this.url) return result;
    let seen = 0;
    for await (const queued of this.ledger.listOutbox()) {
      if (opts.maxEvents !== undefined && seen >= opts.maxEvents) break;
      seen++;
      const { record } = await this.ledger.recordEvent(queued);
      const { outcome } = await this.deliverRecorded(record, this.url);
      if (outcome === 'delivered' || outcome === 'already-delivered') result.delivered++;
      else if (outcome === 'abandoned') result.abandoned++;
      else result.queued++;
    }
    return result;
  }

  private async deliverRecorded(event: StoredEvent, url: string): Promise<EmitResult> {
    const id = event.id;
    let sequence: number | undefined;
    try {
      const claimId = randomUUID();
      const claimedAt = currentClock().now();
      const claim = await this.ledger.claimDelivery(id, {
        claimId,
        claimedAt,
        expiresAt: claimedAt + this.policy.claimTimeoutMs,
      });
      if (claim === undefined) return { id, outcome: 'in-flight' };
      // An earlier claimant delivered, then died before clearing the outbox entry.
      if (await this.ledger.isDelivered(id)) {
        await this.ledger.removeFromOutbox(id);
        return { id, outcome: 'already-delivered' };
      }
      const assigned = await this.ledger.assignSequence(event.channel, id);
      sequence = assigned;
      const { ok, attempts, lastError, tries } = await this.post(url, toPayload(event, sequence));
      const outcome = () => ({
        id,
        channel: event.channel,
        sequence: assigned,
        at: currentClock().now(),
        attempts,
        tries,
      });
      if (ok) {
        await this.ledger.recordDelivered(outcome());
        this.log.info(
          { eventId: id, type: event.type, channel: event.channel, sequence, attempts },
          'webhook delivered',
        );
        return { id, outcome: 'delivered', sequence };
      }
      if (currentClock().now() - event.occurredAt > this.policy.abandonAfterMs) {
        await this.ledger.recordAbandoned({ ...outcome(), lastError });
        this.log.error(
          { eventId: id, type: event.type, channel: event.channel, sequence, lastError },
          'webhook abandoned: undeliverable past the retention window',
        );
        return { id, outcome: 'abandoned', sequence };
      }
      await this.ledger.releaseDelivery(id, claim, { claimId, at: currentClock().now(), tries });
      this.log.warn(
        { eventId: id, type: event.type, channel: event.channel, sequence, attempts, lastError },
        'webhook delivery failed; left in the outbox for a later run',
      );
    } catch (err) {
      // Ledger trouble while claiming, numbering or bookkeeping: the event is in the outbox, and a
      // later drain retries once any claim we hold has lapsed.
      this.log.warn(
        { eventId: id, type: event.type, err },
        'webhook bookkeeping failed; left in the outbox for a later run',
      );
    }
    return { id, outcome: 'queued', sequence };
  }

  /** POSTs with bounded exponential back-off, noting each attempt's outcome in `tries`. Never throws. */
  private async post(
    url: string,
    payload: WebhookPayload,
  ): Promise<{ ok: boolean; attempts: number; lastError?: string; tries: DeliveryTry[] }> {
    const body = JSON.stringify(payload);
    const tries: DeliveryTry[] = [];
    let lastError: string | undefined;
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      if (attempt > 1) {
        // Real time, not the lifecycle clock: this waits for a remote server to recover.
        const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 2));
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
      }
      try {
        const res = await request(url, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'livecycle-webhooks/1',
            [EVENT_TYPE_HEADER]: payload.type,
            ...signWebhook(payload.id, body, this.secrets, currentClock().now()),
          },
          signal: AbortSignal.timeout(this.policy.timeoutMs),
        });
        await res.body.dump();
        tries.push({ at: currentClock().now(), status: res.statusCode });
        if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, attempts: attempt, tries };
        lastError = `HTTP ${res.statusCode}`;
        if (!retryable(res.statusCode)) return { ok: false, attempts: attempt, lastError, tries };
      } catch (err) {
        lastError =
          err instanceof Error ? `${err.name}: ${(err as { code?: string }).code ?? err.message}` : String(err);
        tries.push({ at: currentClock().now(), error: lastError });
      }
    }
    return { ok: false, attempts: this.policy.maxAttempts, lastError, tries };
  }
}
