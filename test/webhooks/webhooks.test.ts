import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlledClock, installClock } from '../../shared/clock';
import { Ledger, LedgerKeys, type StoredEvent } from '../../shared/ledger';
import { createLogger } from '../../shared/log';
import {
  DEFAULT_DELIVERY_POLICY,
  Webhooks,
  eventId,
  verifyWebhook,
  worstCaseAttemptMs,
  type EmitInputOf,
  type WebhookPayload,
  type WebhooksOptions,
} from '../../shared/webhooks';
import { EVENT_DATA_EXAMPLES } from '../../shared/webhooks/events';
import type { EventType } from '../../shared/ledger';
import { recordWebhookBody } from '../contract/recorder';
import { keysUnder, startLedgerEnv, type LedgerEnv } from '../ledger/emulator';

const T = 1_700_000_000_000;
const NEW_SECRET = 'whsec_d2ViaG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmM=';
const OLD_SECRET = 'whsec_d2ViaG9vay1zZWNyZXQtb2xkLTAxMjM0NTY3ODlhYmM=';
const BUCKET = 'livecycle-demo';
const FAST = { baseDelayMs: 1, maxDelayMs: 4, timeoutMs: 2_000 };

/** An event of `type` about `fact`, with its type's example data. */
function event<T extends EventType>(type: T, channel: string | null, fact: string, occurredAt: number): EmitInputOf<T> {
  return { type, channel, fact, occurredAt, data: EVENT_DATA_EXAMPLES[type] } as EmitInputOf<T>;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: WebhookPayload;
}

/** A real HTTP receiver on 127.0.0.1 that answers with the scripted statuses, then 200. */
class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  hang = false;
  /** Answer this much later, e.g. so an attempt outlasts concurrent duplicates' bookkeeping. */
  delayMs = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: req.headers, body, payload: JSON.parse(body) as WebhookPayload });
        recordWebhookBody(body);
        if (this.hang) return;
        const status = this.script.shift() ?? 200;
        setTimeout(() => {
          res.statusCode = status;
          res.end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let env: LedgerEnv;
let receiver: Receiver;
let ledger: Ledger;
let prefix: string;
let run = 0;
const clock = new ControlledClock({ startMs: T, rate: 0 });
const logger = createLogger({ name: 'webhooks-test', level: 'silent' });

function webhooks(overrides: Partial<WebhooksOptions> = {}): Webhooks {
  return new Webhooks({
    ledger,
    bucket: BUCKET,
    url: receiver.url,
    secrets: [NEW_SECRET, OLD_SECRET],
    logger,
    policy: FAST,
    ...overrides,
  });
}

beforeAll(async () => {
  env = await startLedgerEnv({ clock });
  installClock(clock);
});
afterAll(async () => {
  installClock(undefined);
  await env.stop();
});
beforeEach(async () => {
  prefix = `_livecycle-w${++run}/`;
  ledger = new Ledger(env.bucket, prefix);
  receiver = new Receiver();
  await receiver.start();
});
afterEach(async () => {
  await receiver.stop();
});

describe('webhook delivery', () => {
  it('delivers a signed event that verifies with either rotation secret', async () => {
    const result = await webhooks().emit(event('stream.ended', 'cam', '20231114T221320Z', T - 5000));
    expect(result).toMatchObject({ outcome: 'delivered', sequence: 1 });
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.payload).toEqual({
      id: result.id,
      type: 'stream.ended',
      channel: 'cam',
      bucket: BUCKET,
      sequence: 1,
      occurredAt: new Date(T - 5000).toISOString(),
      data: EVENT_DATA_EXAMPLES['stream.ended'],
    });
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-livecycle-event-type']).toBe('stream.ended');
    expect(verifyWebhook(got!.headers, got!.body, [NEW_SECRET], T)).toMatchObject({ ok: true, id: result.id });
    expect(verifyWebhook(got!.headers, got!.body, [OLD_SECRET], T)).toMatchObject({ ok: true, id: result.id });
    expect(verifyWebhook(got!.headers, got!.body, ['whsec_YW4tdW5yZWxhdGVkLXNlY3JldC0wMTIzNDU2Nzg5YWI='], T).ok).toBe(
      false,
    );
    // Delivered: nothing left in the outbox.
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([]);
  });

  it('gives a duplicated fact the same id and sequence, and does not re-send it once delivered', async () => {
    const hooks = webhooks();
    const fact = event('channel.created', 'cam', String(T), T);
    const first = await hooks.emit(fact);
    const second = await hooks.emit(fact);
    const third = await webhooks().emit({ ...fact, data: { ...fact.data, replaced: true } });
    expect(second).toEqual({ id: first.id, outcome: 'already-delivered' });
    expect(third).toEqual({ id: first.id, outcome: 'already-delivered' });
    expect(receiver.received).toHaveLength(1);
  });

  it('POSTs concurrent duplicates exactly once: only the claimant delivers', async () => {
    const fact = event('vod.ready', 'cam', '20231114T221320Z', T);
    // Separate instances, as separate invocations would have.
    const results = await Promise.all(Array.from({ length: 8 }, () => webhooks().emit(fact)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.outcome === 'delivered')).toEqual([
      { id: results[0]!.id, outcome: 'delivered', sequence: 1 },
    ]);
    for (const r of results.filter((r) => r.outcome !== 'delivered'))
      expect(['in-flight', 'already-delivered']).toContain(r.outcome);
    expect(receiver.received.map((r) => [r.payload.id, r.payload.sequence])).toEqual([[results[0]!.id, 1]]);
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([]);
    // Re-running the emit and a drain afterwards changes nothing more.
    expect(await webhooks().emit(fact)).toEqual({ id: results[0]!.id, outcome: 'already-delivered' });
    expect(await webhooks().drainOutbox()).toEqual({ delivered: 0, queued: 0, abandoned: 0 });
    expect(receiver.received).toHaveLength(1);
  });

  it('lets one claimant make the attempts of a failing delivery; its released claim lets the next drain retry at once', async () => {
    receiver.script = [503, 503];
    // Slow failures: the duplicates look while the claimant's attempt is still running.
    receiver.delayMs = 300;
    const fact = event('stream.started', 'cam', 'b-fail', T);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => webhooks({ policy: { ...FAST, maxAttempts: 2 } }).emit(fact)),
    );
    expect(results.filter((r) => r.outcome === 'queued')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'in-flight')).toHaveLength(3);
    expect(receiver.received).toHaveLength(2);
    // Claim 1 (the attempt) and claim 2 (its release, lapsed at birth).
    expect(await keysUnder(env.bucket, `${prefix}webhooks/claims/`)).toHaveLength(2);
    expect(await webhooks().drainOutbox()).toEqual({ delivered: 1, queued: 0, abandoned: 0 });
    expect(receiver.received.map((r) => r.payload.id)).toEqual([results[0]!.id, results[0]!.id, results[0]!.id]);
  });

  it('numbers each channel’s events 1, 2, 3… and bucket-wide events separately', async () => {
    const hooks = webhooks();
    await hooks.emit(event('channel.created', 'cam', String(T), T));
    await hooks.emit(event('channel.created', 'other', String(T), T));
    await hooks.emit(event('stream.started', 'cam', 'b1', T + 1));
    await hooks.emit(event('cleanup.completed', null, 'run-1', T + 2));
    await hooks.emit(event('stream.ended', 'cam', 'b1', T + 3));
    await hooks.emit(event('channel.disabled', 'cam', `${T}:${T + 3}`, T + 4));
    const seq = (channel: string | null) =>
      receiver.received.filter((r) => r.payload.channel === channel).map((r) => [r.payload.type, r.payload.sequence]);
    expect(seq('cam')).toEqual([
      ['channel.created', 1],
      ['stream.started', 2],
      ['stream.ended', 3],
      ['channel.disabled', 4],
    ]);
    expect(seq('other')).toEqual([['channel.created', 1]]);
    expect(seq(null)).toEqual([['cleanup.completed', 1]]);
  });

  it('retries with back-off, gives up without throwing, and a later drain delivers the same event', async () => {
    receiver.script = [503, 502, 500, 429];
    const hooks = webhooks({ policy: { ...FAST, maxAttempts: 4 } });
    const result = await hooks.emit(event('channel.deleted', 'cam', String(T), T));
    expect(result).toMatchObject({ outcome: 'queued', sequence: 1 });
    expect(receiver.received).toHaveLength(4);
    expect(new Set(receiver.received.map((r) => r.payload.id))).toEqual(new Set([result.id]));
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([
      `${prefix}webhooks/outbox/${result.id}.json`,
    ]);

    // Next run: the receiver is back.
    expect(await webhooks().drainOutbox()).toEqual({ delivered: 1, queued: 0, abandoned: 0 });
    const last = receiver.received.at(-1)!;
    expect([last.payload.id, last.payload.sequence]).toEqual([result.id, 1]);
    expect(verifyWebhook(last.headers, last.body, [OLD_SECRET], T).ok).toBe(true);
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([]);
    expect(await webhooks().drainOutbox()).toEqual({ delivered: 0, queued: 0, abandoned: 0 });
  });

  it("records each HTTP attempt's outcome: a failed run on its released claim, the delivering run on its record", async () => {
    receiver.script = [503];
    const fact = event('stream.ended', 'cam', 'b-tries', T);
    const down = await webhooks({ url: 'http://127.0.0.1:9/hooks', policy: { ...FAST, maxAttempts: 1 } }).emit(fact);
    expect(down.outcome).toBe('queued');
    await clock.advance(60_000);
    expect((await webhooks({ policy: { ...FAST, maxAttempts: 1 } }).drainOutbox()).queued).toBe(1);
    await clock.advance(60_000);
    expect((await webhooks().drainOutbox()).delivered).toBe(1);
    const delivery = await ledger.deliveryOf(down.id);
    expect(delivery).toMatchObject({ status: 'delivered', record: { attempts: 1 } });
    expect(delivery.tries).toEqual([
      { at: clock.now() - 120_000, error: 'Error: ECONNREFUSED' },
      { at: clock.now() - 60_000, status: 503 },
      { at: clock.now(), status: 200 },
    ]);
    expect(receiver.received).toHaveLength(2);
  });

  it('does not retry a 4xx rejection within the run', async () => {
    receiver.script = [400];
    const result = await webhooks().emit(event('stream.started', 'cam', 'b1', T));
    expect(result.outcome).toBe('queued');
    expect(receiver.received).toHaveLength(1);
  });

  it('survives an unreachable or hanging receiver', async () => {
    const down = await webhooks({ url: 'http://127.0.0.1:9/hooks', policy: { ...FAST, maxAttempts: 2 } }).emit(
      event('stream.started', 'cam', 'b1', T),
    );
    expect(down.outcome).toBe('queued');
    receiver.hang = true;
    const hung = await webhooks({ policy: { ...FAST, maxAttempts: 2, timeoutMs: 200 } }).emit(
      event('stream.started', 'cam', 'b2', T),
    );
    expect(hung.outcome).toBe('queued');
    expect(receiver.received).toHaveLength(2);
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toHaveLength(2);
  });

  it('abandons an event still undeliverable past the retention window', async () => {
    receiver.script = [503, 503];
    const result = await webhooks({ policy: { ...FAST, maxAttempts: 2, abandonAfterMs: 3_600_000 } }).emit(
      event('stream.ended', 'cam', 'old', T - 3_600_001),
    );
    expect(result.outcome).toBe('abandoned');
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([]);
    expect(await keysUnder(env.bucket, `${prefix}webhooks/abandoned/`)).toEqual([
      `${prefix}webhooks/abandoned/${result.id}.json`,
    ]);
  });

  it('refuses a claim timeout shorter than the longest delivery attempt', () => {
    expect(() => webhooks({ policy: { ...FAST, maxAttempts: 4, timeoutMs: 2_000, claimTimeoutMs: 8_000 } })).toThrow(
      /claimTimeoutMs/,
    );
    expect(worstCaseAttemptMs(DEFAULT_DELIVERY_POLICY)).toBe(4 * 5_000 + 500 + 1_000 + 2_000);
    expect(DEFAULT_DELIVERY_POLICY.claimTimeoutMs).toBeGreaterThan(worstCaseAttemptMs(DEFAULT_DELIVERY_POLICY));
  });

  it('does nothing when no URL is configured', async () => {
    const result = await webhooks({ url: undefined }).emit(event('stream.started', 'cam', 'b1', T));
    expect(result.outcome).toBe('disabled');
    expect(await keysUnder(env.bucket, prefix)).toEqual([]);
  });

  it('refuses a URL without signing secrets', () => {
    expect(() => webhooks({ secrets: [] })).toThrow(/signing secret/);
  });

  // Last in this file: it moves the shared clock.
  it('leaves a crashed claimant’s event alone until its claim times out, then exactly one drain delivers it', async () => {
    const id = eventId('channel.deleted', BUCKET, 'cam', 'crashed');
    const event: StoredEvent = {
      v: 1,
      id,
      type: 'channel.deleted',
      bucket: BUCKET,
      channel: 'cam',
      fact: 'crashed',
      occurredAt: clock.now(),
      data: EVENT_DATA_EXAMPLES['channel.deleted'],
    };
    // What an emitter leaves behind when it dies right after claiming: outbox entry, event, claim 1.
    await ledger.enqueueEvent(event);
    await ledger.recordEvent(event);
    const timeout = DEFAULT_DELIVERY_POLICY.claimTimeoutMs;
    expect(
      await ledger.claimDelivery(id, {
        claimId: 'crashed-invocation',
        claimedAt: clock.now(),
        expiresAt: clock.now() + timeout,
      }),
    ).toBe(1);

    expect(await webhooks().drainOutbox()).toEqual({ delivered: 0, queued: 1, abandoned: 0 });
    await clock.advance(timeout - 1);
    expect(await webhooks().drainOutbox()).toEqual({ delivered: 0, queued: 1, abandoned: 0 });
    expect(receiver.received).toEqual([]);

    await clock.advance(1);
    const drains = await Promise.all(Array.from({ length: 4 }, () => webhooks().drainOutbox()));
    expect(drains.reduce((n, d) => n + d.delivered, 0)).toBe(1);
    expect(receiver.received.map((r) => [r.payload.id, r.payload.sequence])).toEqual([[id, 1]]);
    expect(await ledger.isDelivered(id)).toBe(true);
    expect(await keysUnder(env.bucket, `${prefix}webhooks/outbox/`)).toEqual([]);
    // Claim 1 (crashed) and claim 2 (the drain that took over); nothing was deleted to take over.
    expect(await keysUnder(env.bucket, `${prefix}webhooks/claims/${id}/`)).toEqual(
      [2, 1].map((n) => new LedgerKeys(prefix).deliveryClaims(id).key(n)),
    );
  });
});
