import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ControlledClock } from '../../shared/clock';
import type { TopicHub, TopicMessage } from '../../local/emulator/types';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../local/runtime';

export const FIXTURES = join(__dirname, 'fixtures');
/** 2024-01-01T00:00:30Z: 30 s before a minute boundary, so cron ticks are easy to count. */
export const START_MS = Date.UTC(2024, 0, 1, 0, 0, 30);
export const STS_SECRET = 'fixture-sts-secret-0123456789';
export const STS_TOKEN = 'fixture-sts-token-abcdefghijkl';

/** What fixture handlers recorded (see fixtures/bundles/record.js). */
export function calls<T = Record<string, unknown>>(fn?: string): T[] {
  const all = ((globalThis as Record<symbol, unknown>)[Symbol.for('livecycle.test.calls')] ?? []) as (T & {
    fn: string;
  })[];
  return fn ? all.filter((c) => c.fn === fn) : all;
}

export function resetCalls(): void {
  const g = globalThis as Record<symbol, unknown>;
  g[Symbol.for('livecycle.test.calls')] = [];
  g[Symbol.for('livecycle.test.counts')] = new Map();
}

/** A minimal MNS-like hub, as the emulator's: publish fans out to subscribers. */
export class TestTopics implements TopicHub {
  private readonly subs = new Map<string, Set<(m: TopicMessage) => Promise<void>>>();
  constructor(private readonly clock: { now(): number }) {}
  async publish(topic: string, body: string, attributes?: Record<string, string>): Promise<TopicMessage> {
    const message: TopicMessage = {
      messageId: randomBytes(16).toString('hex').toUpperCase(),
      topic,
      body,
      publishTime: this.clock.now(),
      ...(attributes ? { attributes } : {}),
    };
    for (const deliver of this.subs.get(topic) ?? []) await deliver(message);
    return message;
  }
  subscribe(topic: string, deliver: (m: TopicMessage) => Promise<void>): () => void {
    const set = this.subs.get(topic) ?? new Set();
    this.subs.set(topic, set);
    set.add(deliver);
    return () => set.delete(deliver);
  }
}

export interface FixtureStack {
  runtime: Runtime;
  clock: ControlledClock;
  topics: TestTopics;
  lines: Record<string, unknown>[];
  rawLines: string[];
  mints: () => number;
}

export async function startFixture(overrides: Partial<RuntimeOptions> = {}): Promise<FixtureStack> {
  resetCalls();
  const clock = new ControlledClock({ startMs: START_MS, rate: 0 });
  const topics = new TestTopics(clock);
  const rawLines: string[] = [];
  let minted = 0;
  const runtime = await startRuntime({
    sYamlPath: join(FIXTURES, 's.yaml'),
    distDir: join(FIXTURES, 'bundles'),
    clock,
    topics,
    mintCredentials: async () => {
      minted++;
      return {
        accessKeyId: `STS.fixture-${minted}`,
        accessKeySecret: STS_SECRET,
        securityToken: STS_TOKEN,
        expiration: new Date(clock.now() + 3600_000).toISOString(),
      };
    },
    sYamlEnv: {},
    logSink: (line) => rawLines.push(line),
    random: () => 0.5,
    ...overrides,
  });
  return {
    runtime,
    clock,
    topics,
    rawLines,
    get lines() {
      return rawLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    mints: () => minted,
  };
}
