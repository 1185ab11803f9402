/**
 * `livecycle start --demo`: one channel's whole life on the real local stack (emulator + every
 * s.yaml function from its built bundle, timers on their cron, on-snapshot fed by the emulator's
 * MNS topic, the api over HTTP), narrated step by step.
 *
 * The clock is frozen and driven forward one second at a time, each step waiting until every
 * invocation it started has finished: emulator time runs as fast as the functions keep up (about
 * twenty minutes of it in seconds of wall time), and no function ever sees time jump under it.
 * Each step waits for what it promises to be observable (a webhook at the local receiver, or
 * OSS state) within a deadline in emulator time, and fails naming itself otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { signApiRequest } from '../../shared/api/auth';
import type { CleanupRunReport } from '../../shared/cleanup';
import { Ledger } from '../../shared/ledger';
import { OssClient, OssError, staticCredentials, type OssBucket } from '../../shared/oss';
import { newWebhookSecret, type WebhookPayload } from '../../shared/webhooks';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET } from '../emulator';
import { bootStack, type LocalStack } from '../stack';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

const CHANNEL = 'cam-demo';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How far the driver moves the clock between checks. */
const STEP_MS = SECOND;
/** The demo's settings, applied through the local runtime's env overrides (s.yaml keeps its defaults). */
const IDLE_AFTER_SECONDS = 300;
const RECONNECT_WINDOW_SECONDS = 60;
const ORPHAN_GRACE_SECONDS = 300;
const FIRST_PUSH_MS = 30 * SECOND;
const RECONNECT_AFTER_MS = 20 * SECOND;
const SECOND_PUSH_MS = 25 * SECOND;
/** A channel deleted mid-story, before any VOD of it: what cleanup-orphans exists for. */
const REHEARSAL = 'cam-rehearsal';
const REHEARSAL_PUSH_MS = 40 * SECOND;
/** Function log lines kept to show when a step fails. */
const LOG_TAIL = 25;

export const DEMO_STEPS = [
  'channel created',
  'live',
  'snapshot',
  'stopped',
  'reconnected',
  'ended',
  'VOD ready',
  'idle',
  'disabled',
  'deleted',
  'orphans swept',
] as const;
type StepName = (typeof DEMO_STEPS)[number];

class StepFailed extends Error {}

export interface DemoOptions {
  /** Project root: s.yaml and the built dist/. */
  root: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** HH:MM:SS of an emulator-clock reading (UTC, as the cron triggers read it). */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function seconds(ms: number): string {
  return `${Math.round(ms / SECOND)} s`;
}

/** A story run against one booted stack. */
class Story {
  private readonly bucket: OssBucket;
  private readonly ledger: Ledger;
  private readonly logTail: string[] = [];
  private publishUrl = '';
  private pushEndedAt = 0;
  private generation = 0;
  private vodPlaylist = '';

  constructor(
    private readonly stack: LocalStack,
    private readonly receiver: WebhookReceiver,
    private readonly out: (line: string) => void,
  ) {
    const client = new OssClient({
      endpoint: stack.emulator.url,
      region: stack.emulator.region,
      pathStyle: true,
      credentials: staticCredentials({
        accessKeyId: DEFAULT_ACCESS_KEY.id,
        accessKeySecret: DEFAULT_ACCESS_KEY.secret,
      }),
    });
    this.bucket = client.bucket(DEFAULT_BUCKET);
    this.ledger = new Ledger(this.bucket);
  }

  /** Remembers the functions' last log lines (shown only if a step fails). */
  log(line: string): void {
    this.logTail.push(line);
    if (this.logTail.length > LOG_TAIL) this.logTail.shift();
  }

  get recentLogs(): readonly string[] {
    return this.logTail;
  }

  private get now(): number {
    return this.stack.clock.now();
  }

  private say(text: string): void {
    this.out(`           · ${text}`);
  }

  /** One second of emulator time: due timers fire, then everything they started finishes. */
  private async tick(): Promise<void> {
    await this.stack.clock.advance(STEP_MS);
    await this.stack.emulator.topics.idle();
    await this.stack.runtime.settled();
  }

  private async waitFor<T>(
    what: string,
    withinMs: number,
    probe: () => T | undefined | Promise<T | undefined>,
  ): Promise<T> {
    const deadline = this.now + withinMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (this.now >= deadline)
        throw new StepFailed(
          `${what}: not seen within ${seconds(withinMs)} of emulator time (until ${clockTime(deadline)})`,
        );
      await this.tick();
    }
  }

  private async runFor(ms: number): Promise<void> {
    const until = this.now + ms;
    while (this.now < until) await this.tick();
  }

  private webhook<T extends WebhookPayload['type']>(
    type: T,
    channel: string | null = CHANNEL,
    accept: (e: Extract<WebhookPayload, { type: T }>) => boolean = () => true,
  ): Extract<WebhookPayload, { type: T }> | undefined {
    return this.receiver.events.find(
      (e): e is Extract<WebhookPayload, { type: T }> => e.type === type && e.channel === channel && accept(e as never),
    );
  }

  private async liveStatus(): Promise<string> {
    return (await this.bucket.getLiveChannelStat(CHANNEL)).status;
  }

  /** A request to the api over HTTP, signed as docs/api.md says. */
  private async api(
    method: 'POST' | 'DELETE',
    path: string,
    body?: object,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signApiRequest({ method, path, body: text, secret: this.stack.apiSecret, now: this.now });
    const res = await request(`${this.stack.runtime.httpUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : text,
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  async step(name: StepName): Promise<string> {
    switch (name) {
      case 'channel created': {
        const res = await this.api('POST', '/channels', { name: CHANNEL, snapshot: true });
        if (res.status !== 201)
          throw new StepFailed(`POST /channels answered ${res.status}: ${JSON.stringify(res.json)}`);
        this.publishUrl = String(res.json.publishUrl);
        this.generation = Number(res.json.generation);
        const created = await this.waitFor('webhook channel.created', MINUTE, () => this.webhook('channel.created'));
        const info = await this.bucket.getLiveChannelInfo(CHANNEL);
        return `POST /channels {"name":"${CHANNEL}","snapshot":true} over HTTP, signed with X-Livecycle-Signature → 201; OSS: ${info.status}, snapshots to topic ${info.snapshot?.notifyTopic}; webhook channel.created #${created.sequence}`;
      }
      case 'live': {
        const url = new URL(this.publishUrl);
        const push = await this.stack.emulator.ingest.start({
          bucket: DEFAULT_BUCKET,
          channel: CHANNEL,
          signedUrl: this.publishUrl,
        });
        this.say(
          `pushing with the publish URL the api returned (rtmp://${url.host}${url.pathname}?Expires=…&Signature=…) from ${push.remoteAddr}`,
        );
        const started = await this.waitFor('webhook stream.started', 2 * MINUTE, () => this.webhook('stream.started'));
        return `OSS Stat: ${await this.liveStatus()}; webhook stream.started #${started.sequence} (broadcast ${String(started.data.broadcastId)})`;
      }
      case 'snapshot': {
        const snapshot = await this.waitFor('a snapshot recorded by on-snapshot', MINUTE, async () => {
          const latest = await this.ledger.latestSnapshot(CHANNEL);
          return latest?.objectKey ? { key: latest.objectKey, at: latest.at } : undefined;
        });
        const head = await this.bucket.headObject(snapshot.key);
        return `OSS wrote ${snapshot.key} (${head.contentLength} bytes) and notified topic livecycle-snapshots; on-snapshot recorded it at ${clockTime(snapshot.at)}`;
      }
      case 'stopped': {
        const started = this.stack.emulator.ingest.active().find((p) => p.channel === CHANNEL);
        if (!started) throw new StepFailed('the push is not running');
        await this.runFor(started.connectedTime + FIRST_PUSH_MS - this.now);
        const ended = await this.stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: CHANNEL });
        this.pushEndedAt = this.now;
        const status = await this.waitFor('OSS Stat Idle', 10 * SECOND, async () =>
          (await this.liveStatus()) === 'Idle' ? 'Idle' : undefined,
        );
        return `publisher disconnected after ${seconds(FIRST_PUSH_MS)}, ${ended?.fragmentsWritten ?? 0} fragments written; OSS Stat: ${status}`;
      }
      case 'reconnected': {
        await this.runFor(RECONNECT_AFTER_MS);
        await this.stack.emulator.ingest.start({
          bucket: DEFAULT_BUCKET,
          channel: CHANNEL,
          signedUrl: this.publishUrl,
        });
        const gap = this.now - this.pushEndedAt;
        await this.waitFor('OSS Stat Live', 10 * SECOND, async () =>
          (await this.liveStatus()) === 'Live' ? true : undefined,
        );
        this.say(`encoder back after ${seconds(gap)} (RECONNECT_WINDOW=${RECONNECT_WINDOW_SECONDS} s): same broadcast`);
        await this.runFor(SECOND_PUSH_MS);
        const ended = await this.stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: CHANNEL });
        this.pushEndedAt = this.now;
        if (this.webhook('stream.ended'))
          throw new StepFailed('stream.ended arrived although the encoder reconnected inside the window');
        return `second push of ${seconds(SECOND_PUSH_MS)}, ${ended?.fragmentsWritten ?? 0} fragments; no stream.ended in between`;
      }
      case 'ended': {
        this.say(
          `poll-stat (every minute) ends the broadcast once no push follows within ${RECONNECT_WINDOW_SECONDS} s`,
        );
        const ended = await this.waitFor('webhook stream.ended', 5 * MINUTE, () => this.webhook('stream.ended'));
        const pushes = ended.data.pushes === undefined ? '' : `, ${String(ended.data.pushes)} pushes`;
        return `webhook stream.ended #${ended.sequence}: broadcast ${String(ended.data.broadcastId)}, ${String(ended.data.startedAt).slice(11, 19)}–${String(ended.data.endedAt).slice(11, 19)}${pushes}`;
      }
      case 'VOD ready': {
        const ready = await this.waitFor('webhook vod.ready', 5 * MINUTE, () => this.webhook('vod.ready'));
        this.vodPlaylist = String(ready.data.playlist);
        const playlist = (await this.bucket.getObject(this.vodPlaylist)).body.toString('utf8');
        const fragments = playlist.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
        if (fragments === 0 || !playlist.includes('#EXT-X-ENDLIST'))
          throw new StepFailed(`${this.vodPlaylist} is not a finished playlist with fragments`);
        return `generate-vod wrote ${this.vodPlaylist} in OSS: ${fragments} fragments from both pushes, #EXT-X-ENDLIST; webhook vod.ready #${ready.sequence}`;
      }
      case 'idle': {
        const idleAt = this.pushEndedAt + IDLE_AFTER_SECONDS * SECOND;
        this.say(`no push since ${clockTime(this.pushEndedAt)}; IDLE_AFTER=${IDLE_AFTER_SECONDS} s`);
        await this.runFor(idleAt - this.now);
        const [info, status] = [await this.bucket.getLiveChannelInfo(CHANNEL), await this.liveStatus()];
        return `idle for ${IDLE_AFTER_SECONDS} s: OSS Stat ${status}, channel still ${info.status} until disable-idle runs (every 5 minutes)`;
      }
      case 'disabled': {
        const disabled = await this.waitFor('webhook channel.disabled', 6 * MINUTE, () =>
          this.webhook('channel.disabled'),
        );
        const info = await this.bucket.getLiveChannelInfo(CHANNEL);
        if (info.status !== 'disabled')
          throw new StepFailed(`channel.disabled arrived but OSS says the channel is ${info.status}`);
        return `disable-idle disabled it (reason ${String(disabled.data.reason)}); OSS: ${info.status}; webhook channel.disabled #${disabled.sequence}`;
      }
      case 'deleted': {
        const res = await this.api('DELETE', `/channels/${CHANNEL}`);
        if (res.status !== 200)
          throw new StepFailed(`DELETE /channels/${CHANNEL} answered ${res.status}: ${JSON.stringify(res.json)}`);
        const deleted = await this.waitFor('webhook channel.deleted', MINUTE, () => this.webhook('channel.deleted'));
        const gone = await this.bucket.getLiveChannelInfo(CHANNEL).then(
          () => false,
          (err: unknown) => err instanceof OssError && err.code === 'NoSuchLiveChannel',
        );
        if (!gone) throw new StepFailed('the api answered 200 but OSS still has the channel');
        const left = (await this.keys(`${CHANNEL}/`)).filter((k) => k.endsWith('.ts'));
        this.say(
          `${left.length} fragments stay in ${CHANNEL}/ (OSS keeps them after DeleteLiveChannel); tombstone for generation ${this.generation} in the ledger`,
        );
        const rehearsal = await this.rehearsal();
        this.say(
          `meanwhile ${REHEARSAL} was created, pushed ${seconds(REHEARSAL_PUSH_MS)} (${rehearsal} fragments) and deleted at once (the DELETE built its VOD first); the operator discarded that VOD, so nothing keeps its fragments`,
        );
        return `DELETE /channels/${CHANNEL} (signed) → 200; OSS: NoSuchLiveChannel; webhook channel.deleted #${deleted.sequence}`;
      }
      case 'orphans swept': {
        const deletedAt = this.now;
        this.say(
          `cleanup-orphans runs hourly at :17 with DRY_RUN=false and ORPHAN_GRACE=${ORPHAN_GRACE_SECONDS} s (demo values set through the local runtime's env overrides; s.yaml's defaults are DRY_RUN=true, ORPHAN_GRACE=86400)`,
        );
        const completed = await this.waitFor('webhook cleanup.completed of a real (not dry) run', 65 * MINUTE, () =>
          this.webhook(
            'cleanup.completed',
            null,
            (e) => e.data.dryRun === false && Date.parse(e.occurredAt) >= deletedAt,
          ),
        );
        const report = (await this.ledger.latestCleanupReport()) as CleanupRunReport | undefined;
        if (!report || report.runId !== completed.data.runId)
          throw new StepFailed(`no stored report for cleanup run ${String(completed.data.runId)}`);
        for (const channel of [CHANNEL, REHEARSAL]) {
          const tally = report.channels.find((c) => c.channel === channel);
          if (!tally) throw new StepFailed(`the cleanup report does not cover ${channel}`);
          const kept =
            Object.entries(tally.kept)
              .map(([reason, n]) => `${n} ${reason}`)
              .join(', ') || 'nothing';
          const left = (await this.keys(`${channel}/`)).filter((k) => k.endsWith('.ts')).length;
          this.say(
            `${channel} (${tally.state}): deleted ${tally.deleted} fragments (${tally.bytes} bytes), kept ${kept}; ${left} fragments left`,
          );
        }
        const rehearsal = report.channels.find((c) => c.channel === REHEARSAL)!;
        if (rehearsal.deleted === 0) throw new StepFailed(`nothing of ${REHEARSAL} was deleted`);
        const vod = (await this.bucket.getObject(this.vodPlaylist)).body.toString('utf8');
        const vodFragments = vod.split('\n').filter((line) => line.endsWith('.ts'));
        for (const fragment of vodFragments) await this.bucket.headObject(`${CHANNEL}/${fragment}`);
        return `run ${report.runId} (${report.status}): ${report.totals.deleted} orphan fragments deleted; all ${vodFragments.length} fragments of ${this.vodPlaylist} still in OSS; webhook cleanup.completed #${completed.sequence}`;
      }
    }
  }

  /**
   * A second channel, pushed and deleted at once. The DELETE concludes the broadcast and builds its VOD
   * (no recording is lost); the operator then discards that VOD, so its fragments are orphans.
   */
  private async rehearsal(): Promise<number> {
    const created = await this.api('POST', '/channels', { name: REHEARSAL });
    if (created.status !== 201)
      throw new StepFailed(
        `POST /channels for ${REHEARSAL} answered ${created.status}: ${JSON.stringify(created.json)}`,
      );
    await this.stack.emulator.ingest.start({
      bucket: DEFAULT_BUCKET,
      channel: REHEARSAL,
      signedUrl: String(created.json.publishUrl),
    });
    await this.runFor(REHEARSAL_PUSH_MS);
    const push = await this.stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: REHEARSAL });
    // A fresh second, so the DELETE's signature differs from any request before it (replay check).
    await this.tick();
    const deleted = await this.api('DELETE', `/channels/${REHEARSAL}`);
    if (deleted.status !== 200)
      throw new StepFailed(`DELETE /channels/${REHEARSAL} answered ${deleted.status}: ${JSON.stringify(deleted.json)}`);
    for (const key of await this.keys(`${REHEARSAL}/vod-`)) await this.bucket.deleteObject(key);
    return push?.fragmentsWritten ?? 0;
  }

  private async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of this.bucket.iterateObjects({ prefix })) keys.push(o.key);
    return keys;
  }

  /** Every event the receiver got for the channel, in order: the story's webhook trail. */
  trail(channel: string | null): string {
    return this.receiver.events
      .filter((e) => e.channel === channel)
      .map((e) => `${e.type} #${e.sequence}`)
      .join(' → ');
  }
}

/** Runs the story; resolves with the exit code (0: every step observed). */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const wallStart = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'livecycle-demo-'));
  const webhookSecret = newWebhookSecret();
  // A round hour, so the hourly cleanup (at :17) comes about seventeen minutes into the story.
  const startMs = Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE + 30 * SECOND;
  let receiver: WebhookReceiver | undefined;
  let stack: LocalStack | undefined;
  let story: Story | undefined;
  let current: StepName | undefined;
  try {
    receiver = await startWebhookReceiver(webhookSecret, { now: () => stack?.clock.now() ?? startMs });
    const settings = {
      IDLE_AFTER: String(IDLE_AFTER_SECONDS),
      RECONNECT_WINDOW: String(RECONNECT_WINDOW_SECONDS),
      ORPHAN_GRACE: String(ORPHAN_GRACE_SECONDS),
      DRY_RUN: 'false',
    };
    stack = await bootStack({
      root: opts.root,
      dataDir,
      apiPort: 0,
      emulatorPort: 0,
      rate: 0,
      startMs,
      env: { ...settings, WEBHOOK_URL: receiver.url, WEBHOOK_SECRETS: webhookSecret },
      logSink: (line) => story?.log(line),
    });
    story = new Story(stack, receiver, opts.out);
    opts.out(`livecycle demo: one LiveChannel from creation to cleanup, on the real local stack`);
    opts.out(
      `  emulator ${stack.emulator.url}, api ${stack.runtime.httpUrl}, functions: ${stack.runtime.functions.map((f) => f.name).join(', ')}`,
    );
    opts.out(`  webhooks → local receiver ${receiver.url} (signatures verified)`);
    opts.out(
      `  demo settings (local runtime env overrides): ${Object.entries(settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    opts.out(
      `  clock: emulator time, driven one second at a time as fast as the functions finish; data: ${dataDir} (removed at the end)`,
    );
    opts.out('');
    for (const [i, name] of DEMO_STEPS.entries()) {
      current = name;
      const detail = await story.step(name);
      opts.out(`[${clockTime(stack.clock.now())}] ${String(i + 1).padStart(2)}. ${name}: ${detail}`);
    }
    if (receiver.rejected > 0) throw new StepFailed(`${receiver.rejected} webhook deliveries did not verify`);
    current = undefined;
    opts.out('');
    opts.out('webhooks received (verified, in order):');
    for (const channel of [CHANNEL, REHEARSAL, null]) opts.out(`  ${channel ?? 'bucket'}: ${story.trail(channel)}`);
    opts.out(
      `demo complete: ${clockTime(startMs)}–${clockTime(stack.clock.now())} of emulator time in ${((Date.now() - wallStart) / 1000).toFixed(1)} s`,
    );
    return 0;
  } catch (err) {
    const step = current === undefined ? 'setup' : `step ${DEMO_STEPS.indexOf(current) + 1} (${current})`;
    opts.err(`livecycle start --demo: failed at ${step}: ${err instanceof Error ? err.message : String(err)}`);
    if (story?.recentLogs.length) opts.err(`last function log lines:\n${story.recentLogs.join('\n')}`);
    return 1;
  } finally {
    await stack?.stop();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
