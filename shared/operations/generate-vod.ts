/**
 * generate-vod: turns a planned VOD (a `pending` record written when a broadcast ended, or by a
 * manual request) into playlists. The plan is deterministic (`planVod`), so PostVodPlaylist
 * rewrites the same objects on every repeat, the parent playlist of a split is rebuilt from the
 * same parts, and `ready` is recorded once: repeats and concurrent runs converge.
 *
 * Triggers: an async invocation `{bucket, channel, broadcastId}` from poll-stat (or the api),
 * and a timer sweep over every channel's VOD records that picks up pending ones whose
 * invocation was lost or failed.
 */
import type { VodRecord } from '../ledger';
import type { EmitInputOf } from '../webhooks';
import { renderParentPlaylist } from '../lifecycle';
import { OssError, OssProtocolError, isTransientFailure } from '../oss';
import type { BucketScope, OperationContext } from './context';
import type { Config } from '../config';
import { isChannelName, isLedgerId, isRunRequest, jsonObject, stringField } from './events';

export interface VodTarget {
  bucket: string;
  channel: string;
  broadcastId: string;
}

export type VodOutcome = 'ready' | 'already-ready' | 'failed' | 'already-failed' | 'not-planned';

/** PostVodPlaylist's answer when no fragment starts in the range (EC observed, reference §9). */
const NO_FRAGMENT_EC = '0044-00000308';

/**
 * A timer tick (or a manual run) sweeps; `{bucket, channel, broadcastId}` with a configured
 * bucket, a channel name and a ledger id builds that VOD; anything else is undefined (bad input,
 * acknowledged without work).
 */
export function decodeVodEvent(event: Buffer, config: Pick<Config, 'buckets'>): VodTarget | 'sweep' | undefined {
  const parsed = jsonObject(event);
  if (!parsed) return undefined;
  if (isRunRequest(parsed)) return 'sweep';
  const bucket = stringField(parsed, 'bucket');
  const channel = stringField(parsed, 'channel');
  const broadcastId = stringField(parsed, 'broadcastId');
  if (bucket === undefined || !config.buckets.includes(bucket) || !isChannelName(channel) || !isLedgerId(broadcastId))
    return undefined;
  return { bucket, channel, broadcastId };
}

export interface GenerateResult {
  vods: (VodTarget & { outcome: VodOutcome })[];
}

export async function generateVod(ctx: OperationContext, request: VodTarget | 'sweep'): Promise<GenerateResult> {
  if (request !== 'sweep') {
    if (!ctx.config.buckets.includes(request.bucket)) {
      ctx.logger.warn({ bucket: request.bucket }, 'generate-vod: bucket is not configured; ignored');
      return { vods: [] };
    }
    return {
      vods: [
        { ...request, outcome: await buildVod(ctx.bucket(request.bucket), ctx, request.channel, request.broadcastId) },
      ],
    };
  }
  const vods: GenerateResult['vods'] = [];
  for (const bucket of ctx.config.buckets) {
    const scope = ctx.bucket(bucket);
    for await (const ref of scope.ledger.listChannels()) {
      // Names over 200 bytes are hashed in keys; the api only creates names up to 128.
      const channel = ref.channel;
      if (!channel) continue;
      if (ctx.clock.now() > ctx.deadline) return { vods }; // the next sweep continues
      // One channel's failure must not end the sweep: channels after it (in key order) would
      // otherwise wait for a sweep in which no earlier channel fails. Its VODs stay pending.
      try {
        for (const vod of await scope.ledger.listVods(channel)) {
          if (vod.status !== 'pending') continue;
          if (ctx.clock.now() > ctx.deadline) return { vods };
          vods.push({
            bucket,
            channel,
            broadcastId: vod.broadcastId,
            outcome: await buildVod(scope, ctx, channel, vod.broadcastId),
          });
        }
      } catch (err) {
        (isTransientFailure(err) ? ctx.logger.warn : ctx.logger.error).call(
          ctx.logger,
          { err, bucket, channel },
          'generate-vod sweep: channel failed; the next sweep retries it',
        );
      }
    }
  }
  return { vods };
}

/**
 * Whether OSS refused the VOD for good, with an answer repeating cannot change: no fragment in
 * the range or an invalid range (400 InvalidArgument), the channel gone (404 NoSuchLiveChannel).
 * Anything else — a timeout, a reset, a 5xx, a throttle, an expired token, an unreadable answer,
 * a bug — may succeed on a later attempt, so it is never terminal: the VOD stays pending.
 */
export function isDefinitiveRefusal(err: unknown): boolean {
  if (!(err instanceof OssError) || err instanceof OssProtocolError) return false;
  return (
    (err.status === 400 && err.code === 'InvalidArgument') || (err.status === 404 && err.code === 'NoSuchLiveChannel')
  );
}

/**
 * Builds one planned VOD. Failures that are not a definitive refusal by OSS are thrown (FC's
 * async retry, then the sweep, try again); a definitive refusal is recorded as `failed`,
 * announced by `vod.failed`, and not retried automatically.
 */
export async function buildVod(
  scope: BucketScope,
  ctx: OperationContext,
  channel: string,
  broadcastId: string,
): Promise<VodOutcome> {
  const vod = await scope.ledger.getVod(channel, broadcastId);
  const log = ctx.logger.child({ bucket: scope.name, channel, broadcastId });
  if (!vod) {
    log.warn('generate-vod: no VOD planned for this broadcast; ignored');
    return 'not-planned';
  }
  if (vod.status === 'ready') {
    // An earlier run may have died between recording `ready` and queueing the event; emit is
    // idempotent per event id (one GET when it was delivered), so announce again from the record.
    await scope.webhooks.emit(vodReadyEvent(vod));
    return 'already-ready';
  }
  if (vod.status === 'failed') {
    // Same as `already-ready`: a run that died between the record and its event is finished here.
    await scope.webhooks.emit(vodFailedEvent(vod));
    return 'already-failed';
  }

  const written: { playlistName: string; key: string }[] = [];
  try {
    for (const part of vod.parts) {
      try {
        await scope.oss.postVodPlaylist(channel, part.playlistName, part.range);
        written.push(part);
      } catch (err) {
        // A part with no fragment is simply absent (e.g. a day of a split with no data).
        if (!(err instanceof OssError && err.ec === NO_FRAGMENT_EC)) throw err;
      }
    }
    if (written.length === 0)
      throw new OssError('PostVodPlaylist', {
        status: 400,
        code: 'InvalidArgument',
        message: 'no fragment in any part of the broadcast',
        ec: NO_FRAGMENT_EC,
      });
    if (vod.parent) {
      const parts = [];
      for (const part of written)
        parts.push({
          playlistName: part.playlistName,
          text: (await scope.oss.getObject(part.key)).body.toString('utf8'),
        });
      await scope.oss.putObject(vod.parent.key, renderParentPlaylist(parts), {
        contentType: 'application/vnd.apple.mpegurl',
      });
    }
  } catch (err) {
    if (!isDefinitiveRefusal(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const { record } = await scope.ledger.recordVod({
      ...withoutMeta(vod),
      status: 'failed',
      error: message.slice(0, 500),
    });
    // A racing generator may have recorded `ready` first; then the broadcast has its VOD and
    // this refusal (e.g. the channel deleted just after) is not announced.
    if ((await scope.ledger.getVod(channel, broadcastId))?.status === 'ready') return 'already-ready';
    log.error({ err }, 'VOD generation failed');
    await scope.webhooks.emit(vodFailedEvent(record));
    return 'failed';
  }

  // The first `ready` recorded wins (a racing generator's), and the event is derived from it.
  const { record } = await scope.ledger.recordVod({
    ...withoutMeta(vod),
    status: 'ready',
    written: written.map((p) => p.key),
  });
  const event = vodReadyEvent(record);
  await scope.webhooks.emit(event);
  log.info({ playlist: event.data.playlist, parts: written.length }, 'VOD ready');
  return 'ready';
}

/** `vod.ready` from the broadcast's `ready` record, so every run that sees the record announces the same event. */
export function vodReadyEvent(record: VodRecord): EmitInputOf<'vod.ready'> {
  const playlist = record.parent?.key ?? record.parts[0]?.key ?? '';
  return {
    type: 'vod.ready',
    channel: record.channel,
    fact: record.broadcastId,
    occurredAt: record.recordedAt,
    // Records from before `written` existed name every planned part.
    data: { broadcastId: record.broadcastId, playlist, parts: record.written ?? record.parts.map((p) => p.key) },
  };
}

/** `vod.failed` from the broadcast's `failed` record (idempotent like `vod.ready`; fact: the broadcast id). */
export function vodFailedEvent(record: VodRecord): EmitInputOf<'vod.failed'> {
  return {
    type: 'vod.failed',
    channel: record.channel,
    fact: record.broadcastId,
    occurredAt: record.recordedAt,
    data: { broadcastId: record.broadcastId, reason: record.error ?? '' },
  };
}

function withoutMeta(vod: VodRecord): Omit<VodRecord, 'v' | 'recordedAt' | 'status' | 'error' | 'written'> {
  const { v: _v, recordedAt: _at, status: _s, error: _e, written: _w, ...rest } = vod;
  return rest;
}
