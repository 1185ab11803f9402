/**
 * Row 7: lifecycle latency — emulator seconds from a push's stop to its `vod.ready` webhook, on
 * the real local stack (`bootStack`: the emulator plus every s.yaml function from its built
 * bundle, timers on their cron, the api over HTTP), webhooks going to a local receiver that
 * verifies their signatures.
 *
 * Clock: frozen and driven one second at a time as fast as the functions finish (the way
 * `livecycle start --demo` runs), so the figure is emulator time, independent of machine load,
 * with one-second resolution. Channels are created through the api; each pushes once and stops
 * at a different second of the minute (poll-stat fires at second 0), which spreads the latency
 * over its range: the broadcast ends at the first poll at least RECONNECT_WINDOW after the stop,
 * then generate-vod writes the VOD and emits vod.ready. Target: ≤ RECONNECT_WINDOW + the
 * poll interval, both read from s.yaml (no overrides).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { signApiRequest } from '../../shared/api/auth';
import { newWebhookSecret } from '../../shared/webhooks';
import { bootStack, type LocalStack } from '../../local/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/demo/webhook-receiver';
import { DEFAULT_BUCKET } from '../../local/emulator';
import { parseSchedule } from '../../local/runtime/scheduler';
import { ROOT } from '../lib/emulator';
import { median, num } from '../lib/stats';
import type { BenchOptions, BenchSection, Row } from '../lib/types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** Every push lasts at least this long (several fragments at s.yaml's FragDuration). */
const MIN_PUSH_MS = 20 * SECOND;
/** Longest wait for one vod.ready after its stop before the row gives up on it. */
const GIVE_UP_MS = 10 * MINUTE;

/** poll-stat's RECONNECT_WINDOW and timer interval as s.yaml declares them. */
function pollSettings(stack: LocalStack): { reconnectWindowMs: number; pollIntervalMs: number } {
  const poll = stack.runtime.functions.find((f) => f.name === 'poll-stat');
  if (!poll) throw new Error('s.yaml declares no poll-stat function');
  const reconnect = Number(poll.environmentVariables.RECONNECT_WINDOW);
  if (!(reconnect > 0)) throw new Error(`poll-stat RECONNECT_WINDOW is ${poll.environmentVariables.RECONNECT_WINDOW}`);
  const timer = poll.triggers.find((t) => t.type === 'timer');
  if (!timer || timer.type !== 'timer') throw new Error('poll-stat has no timer trigger');
  // The longest gap between two firings over a day (a cron can fire unevenly).
  const schedule = parseSchedule(timer.cronExpression, 0);
  let longest = 0;
  for (let at = schedule.next(0), n = 0; n < 24 * 60 && at < 86_400_000; n++) {
    const next = schedule.next(at);
    longest = Math.max(longest, next - at);
    at = next;
  }
  return { reconnectWindowMs: reconnect * SECOND, pollIntervalMs: longest };
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const channels = quick ? 3 : 6;
  const dataDir = await mkdtemp(join(tmpdir(), 'livecycle-bench-lifecycle-'));
  const webhookSecret = newWebhookSecret();
  // A round minute plus 5 s: pushes start 5 s after poll-stat has fired.
  const startMs = Math.ceil(Date.now() / MINUTE) * MINUTE + 5 * SECOND;
  let stack: LocalStack | undefined;
  let receiver: WebhookReceiver | undefined;
  const wallStart = performance.now();
  try {
    receiver = await startWebhookReceiver(webhookSecret, { now: () => stack?.clock.now() ?? startMs });
    stack = await bootStack({
      root: ROOT,
      dataDir,
      apiPort: 0,
      emulatorPort: 0,
      rate: 0,
      startMs,
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRETS: webhookSecret, LOG_LEVEL: 'warn' },
      logSink: () => {},
    });
    const s = stack;
    const { reconnectWindowMs, pollIntervalMs } = pollSettings(s);
    const api = async (path: string, body: object) => {
      const text = JSON.stringify(body);
      const headers = signApiRequest({ method: 'POST', path, body: text, secret: s.apiSecret, now: s.clock.now() });
      const res = await request(`${s.runtime.httpUrl}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: text,
      });
      const json = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode !== 201) throw new Error(`POST ${path} answered ${res.statusCode}: ${JSON.stringify(json)}`);
      return json;
    };
    /** One second of emulator time: due timers fire, then everything they started finishes. */
    const tick = async () => {
      await s.clock.advance(SECOND);
      await s.emulator.topics.idle();
      await s.runtime.settled();
    };

    // Stops spread evenly over one poll interval, each push at least MIN_PUSH_MS long.
    const names = Array.from({ length: channels }, (_, i) => `bench-life-${i}`);
    const stopAt = new Map(
      names.map((name, i) => [
        name,
        startMs + MIN_PUSH_MS + Math.round((i * pollIntervalMs) / channels / SECOND) * SECOND,
      ]),
    );
    const publishUrls = new Map<string, string>();
    for (const name of names) publishUrls.set(name, String((await api('/channels', { name })).publishUrl));
    for (const name of names)
      await s.emulator.ingest.start({ bucket: DEFAULT_BUCKET, channel: name, signedUrl: publishUrls.get(name) });

    const stoppedAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const lastStop = Math.max(...stopAt.values());
    while (readyAt.size < channels) {
      const now = s.clock.now();
      for (const name of names) {
        if (!stoppedAt.has(name) && now >= stopAt.get(name)!) {
          await s.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: name });
          stoppedAt.set(name, s.clock.now());
        }
        if (
          stoppedAt.has(name) &&
          !readyAt.has(name) &&
          receiver.events.some((e) => e.type === 'vod.ready' && e.channel === name)
        )
          readyAt.set(name, now);
      }
      if (now > lastStop + GIVE_UP_MS) break;
      await tick();
    }
    const latencies = names.filter((n) => readyAt.has(n)).map((n) => (readyAt.get(n)! - stoppedAt.get(n)!) / SECOND);
    const missing = names.filter((n) => !readyAt.has(n));
    const wallS = (performance.now() - wallStart) / 1000;
    progress(
      `lifecycle: ${channels} channels, stop → vod.ready ${latencies.map((l) => `${l} s`).join(', ')} (emulator time; ${wallS.toFixed(1)} s wall)${missing.length ? `; no vod.ready for ${missing.join(', ')}` : ''}`,
    );
    if (receiver.rejected > 0) throw new Error(`${receiver.rejected} webhook deliveries did not verify`);
    const budgetS = (reconnectWindowMs + pollIntervalMs) / SECOND;
    const worst = latencies.length ? Math.max(...latencies) : NaN;
    return [
      {
        name: 'lifecycle: push stop → vod.ready',
        ours: latencies.length ? `median ${num(median(latencies), 0)} s, max ${num(worst, 0)} s` : undefined,
        peer: `window ${reconnectWindowMs / SECOND} s + poll ${pollIntervalMs / SECOND} s`,
        ratio: latencies.length ? `max ${num(worst / budgetS, 2)} × budget` : undefined,
        target: `≤ reconnect window (${reconnectWindowMs / SECOND} s) + poll interval (${pollIntervalMs / SECOND} s)`,
        met: missing.length === 0 && worst <= budgetS,
        ...(latencies.length === 0 && {
          notMeasured: `no vod.ready within ${GIVE_UP_MS / MINUTE} min of emulator time`,
        }),
        raw: {
          channels,
          latenciesS: latencies,
          missing,
          reconnectWindowMs,
          pollIntervalMs,
          stopPhasesS: names.map((n) => (stopAt.get(n)! % MINUTE) / SECOND),
          wallS,
        },
      },
    ];
  } finally {
    await stack?.stop();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export const lifecycleLatency: BenchSection = { name: 'lifecycle', title: 'lifecycle latency', run };
