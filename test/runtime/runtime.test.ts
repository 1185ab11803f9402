import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { calls, startFixture, START_MS, STS_SECRET, STS_TOKEN, type FixtureStack } from './helpers';

let stack: FixtureStack | undefined;
afterEach(async () => {
  await stack?.runtime.stop();
  stack = undefined;
});

interface TickCall {
  event: { triggerTime: string; triggerName: string; payload?: string };
  eventIsBuffer: boolean;
  context: Record<string, unknown> & { function: Record<string, unknown>; credentials: Record<string, string> };
  env: Record<string, string>;
  greetingAtLoad: string;
  callsInThisInstance: number;
}

describe('timer triggers', () => {
  it('fire at the cron times as the controlled clock advances, with FC timer events', async () => {
    stack = await startFixture();
    await stack.clock.advance(30_000); // 00:01:00 — not an even minute
    expect(calls('tick')).toHaveLength(0);
    await stack.clock.advance(60_000); // 00:02:00
    await stack.runtime.settled();
    expect(calls<TickCall>('tick').map((c) => c.event)).toEqual([{ triggerTime: '2024-01-01T00:02:00Z', triggerName: 'every-2-minutes', payload: '{"job":"tick"}' }]);
    await stack.clock.advance(10 * 60_000); // to 00:12:00: five more ticks
    await stack.runtime.settled();
    expect(calls<TickCall>('tick').map((c) => c.event.triggerTime)).toEqual(['02', '04', '06', '08', '10', '12'].map((m) => `2024-01-01T00:${m}:00Z`));
  });

  it('honours CRON_TZ and skips disabled triggers', async () => {
    stack = await startFixture();
    // 04:00 Asia/Shanghai is 20:00 UTC; a whole day passes.
    await stack.clock.advance(24 * 3600_000);
    await stack.runtime.settled();
    const byTrigger = (name: string) => calls<TickCall>('tick').filter((c) => c.event.triggerName === name);
    expect(byTrigger('shanghai-4am').map((c) => c.event.triggerTime)).toEqual(['2024-01-01T20:00:00Z']);
    expect(byTrigger('shanghai-4am')[0]!.event).not.toHaveProperty('payload');
    expect(byTrigger('switched-off')).toHaveLength(0);
    expect(byTrigger('every-2-minutes')).toHaveLength(720);
  });
});

describe('context, environment and instances', () => {
  it('hands the handler a Buffer and an FC context with minted STS credentials', async () => {
    stack = await startFixture();
    const outcome = await stack.runtime.invoke('tick', Buffer.from('{"manual":true}'));
    expect(outcome.status).toBe('succeeded');
    expect(JSON.parse(outcome.payload.toString())).toEqual({ ok: true });
    const [call] = calls<TickCall>('tick');
    expect(call!.eventIsBuffer).toBe(true);
    expect(call!.context).toMatchObject({
      requestId: outcome.requestId,
      function: { name: 'fixture-tick', handler: 'index.handler', memory: 128, timeout: 10 },
      region: 'cn-hangzhou',
      accountId: '1111222233334444',
      credentials: { accessKeyId: 'STS.fixture-1', accessKeySecret: STS_SECRET, securityToken: STS_TOKEN },
      logger: ['debug', 'info', 'warn', 'error', 'log'],
    });
    expect(outcome.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each function only its own variables plus FC system variables, with local overrides', async () => {
    process.env.LIVECYCLE_TEST_HOST_ONLY = 'must-not-leak';
    try {
      stack = await startFixture({ env: { OSS_ENDPOINT: 'http://127.0.0.1:9' } });
      await stack.runtime.invoke('tick', Buffer.from('{}'));
      const [call] = calls<TickCall>('tick');
      expect(call!.greetingAtLoad).toBe('hello from s.yaml');
      expect(call!.env).toMatchObject({
        GREETING: 'hello from s.yaml',
        OSS_ENDPOINT: 'http://127.0.0.1:9',
        FC_FUNCTION_NAME: 'fixture-tick',
        FC_ACCOUNT_ID: '1111222233334444',
        FC_REGION: 'cn-hangzhou',
        FC_FUNCTION_MEMORY_SIZE: '128',
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.fixture-1',
      });
      expect(call!.env).not.toHaveProperty('LIVECYCLE_TEST_HOST_ONLY');
      // Outside an invocation the host environment is intact.
      expect(process.env.LIVECYCLE_TEST_HOST_ONLY).toBe('must-not-leak');
    } finally {
      delete process.env.LIVECYCLE_TEST_HOST_ONLY;
    }
  });

  it('reuses a warm instance and mints credentials once until they near expiry', async () => {
    stack = await startFixture();
    await stack.runtime.invoke('tick', Buffer.from('{}'));
    await stack.runtime.invoke('tick', Buffer.from('{}'));
    expect(calls<TickCall>('tick').map((c) => c.callsInThisInstance)).toEqual([1, 2]);
    expect(stack.mints()).toBe(1);
    await stack.clock.advance(3600_000);
    await stack.runtime.invoke('tick', Buffer.from('{}'));
    expect(stack.mints()).toBe(2);
  });

  it('accepts the short name, the FC function name or the resource id, and names unknown functions', async () => {
    stack = await startFixture();
    for (const name of ['tick', 'fixture-tick']) expect((await stack.runtime.invoke(name, Buffer.from('{}'))).status).toBe('succeeded');
    await expect(stack.runtime.invoke('nope', Buffer.from('{}'))).rejects.toThrow(/no function "nope".*known: tick, snap-json/);
  });
});

describe('timeouts', () => {
  it('fails an invocation that outlives the function timeout on the clock and discards its instance', async () => {
    stack = await startFixture();
    const pending = stack.runtime.invoke('slow', Buffer.from('{"sleepMs":5000}'));
    await stack.clock.advance(1999);
    await stack.clock.advance(1);
    const outcome = await pending;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toEqual({ type: 'FunctionTimeout', message: expect.stringContaining('timed out after 2 seconds') });
    expect(outcome.durationMs).toBe(2000);
    // The timed-out instance is gone: the next call starts a fresh one, which then stays warm.
    const first = await stack.runtime.invoke('slow', Buffer.from('{"sleepMs":0}'));
    const second = await stack.runtime.invoke('slow', Buffer.from('{"sleepMs":0}'));
    expect(JSON.parse(first.payload.toString())).toEqual({ callsInThisInstance: 1 });
    expect(JSON.parse(second.payload.toString())).toEqual({ callsInThisInstance: 2 });
  });

  it('lets an invocation that finishes in time succeed', async () => {
    stack = await startFixture();
    const pending = stack.runtime.invoke('slow', Buffer.from('{"sleepMs":1500}'));
    await vi.waitFor(() => expect(calls('slow')).toHaveLength(1));
    await stack.clock.advance(1500);
    expect((await pending).status).toBe('succeeded');
  });
});
