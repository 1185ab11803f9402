import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
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
    expect(calls<TickCall>('tick').map((c) => c.event)).toEqual([
      { triggerTime: '2024-01-01T00:02:00Z', triggerName: 'every-2-minutes', payload: '{"job":"tick"}' },
    ]);
    await stack.clock.advance(10 * 60_000); // to 00:12:00: five more ticks
    await stack.runtime.settled();
    expect(calls<TickCall>('tick').map((c) => c.event.triggerTime)).toEqual(
      ['02', '04', '06', '08', '10', '12'].map((m) => `2024-01-01T00:${m}:00Z`),
    );
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
    for (const name of ['tick', 'fixture-tick'])
      expect((await stack.runtime.invoke(name, Buffer.from('{}'))).status).toBe('succeeded');
    await expect(stack.runtime.invoke('nope', Buffer.from('{}'))).rejects.toThrow(
      /no function "nope".*known: tick, snap-json/,
    );
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
    expect(outcome.error).toEqual({
      type: 'FunctionTimeout',
      message: expect.stringContaining('timed out after 2 seconds'),
    });
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

interface SnapCall {
  event: string;
  attempt: number;
  now: number;
}

describe('MNS topic triggers', () => {
  it('deliver the JSON envelope (attributes flattened) and the STREAM body to their subscribers', async () => {
    stack = await startFixture();
    const plain = await stack.topics.publish('fixture-topic', 'hello topic');
    await stack.runtime.settled();
    const json = JSON.parse(calls<SnapCall>('snap-json')[0]!.event) as Record<string, unknown>;
    expect(json).toEqual({
      TopicOwner: '1111222233334444',
      Message: 'hello topic',
      Subscriber: '1111222233334444',
      PublishTime: START_MS,
      SubscriptionName: 'fixture-snap-json-topic-json',
      MessageMD5: createHash('md5').update('hello topic').digest('hex').toUpperCase(),
      TopicName: 'fixture-topic',
      MessageId: plain.messageId,
    });
    expect(calls<SnapCall>('snap-stream')[0]!.event).toBe('hello topic');

    await stack.topics.publish('fixture-topic', 'with attrs', { Extend: '{"key":"value"}' });
    await stack.runtime.settled();
    expect(JSON.parse(calls<SnapCall>('snap-json')[1]!.event)).toMatchObject({ key: 'value', Message: 'with attrs' });
    expect(JSON.parse(calls<SnapCall>('snap-stream')[1]!.event)).toEqual({
      body: 'with attrs',
      attrs: { Extend: '{"key":"value"}' },
    });
  });

  it('retry a failing push per notifyStrategy on the clock, then drop it', async () => {
    const settled: { trigger: string; status: string; attempts: number }[] = [];
    stack = await startFixture({
      onMnsSettled: (d) => settled.push({ trigger: d.trigger, status: d.status, attempts: d.attempts }),
    });
    await stack.topics.publish('fixture-topic', 'fail=2');
    await stack.runtime.settled();
    const attempts = (fn: string) => calls<SnapCall>(fn).map((c) => c.now - START_MS);
    // BACKOFF_RETRY: retries after 10–20 s (the fixture's random() = 0.5 → 15 s).
    // EXPONENTIAL_DECAY_RETRY: 1 s, then 2 s.
    expect(attempts('snap-json')).toEqual([0]);
    expect(attempts('snap-stream')).toEqual([0]);
    await stack.clock.advance(60_000);
    await stack.runtime.settled();
    expect(attempts('snap-json')).toEqual([0, 15_000, 30_000]);
    expect(attempts('snap-stream')).toEqual([0, 1000, 3000]);
    expect(settled).toEqual(
      expect.arrayContaining([
        { trigger: 'topic-json', status: 'delivered', attempts: 3 },
        { trigger: 'topic-stream', status: 'delivered', attempts: 3 },
      ]),
    );

    // A message that always fails: BACKOFF_RETRY gives up after 3 retries (4 attempts).
    await stack.topics.publish('fixture-topic', 'fail=999');
    await stack.clock.advance(120_000);
    await stack.runtime.settled();
    expect(calls<SnapCall>('snap-json').filter((c) => c.event.includes('fail=999'))).toHaveLength(4);
    expect(settled).toContainEqual({ trigger: 'topic-json', status: 'dropped', attempts: 4 });
  });

  it('EXPONENTIAL_DECAY_RETRY retries 176 times over about a day', async () => {
    const { retryDelaySeconds } = await import('../../local/runtime/mns');
    const delays: number[] = [];
    for (let retry = 1; ; retry++) {
      const d = retryDelaySeconds('EXPONENTIAL_DECAY_RETRY', retry, () => 0);
      if (d === undefined) break;
      delays.push(d);
    }
    expect(delays).toHaveLength(176);
    expect(delays.slice(0, 10)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(86_015);
    expect([1, 2, 3, 4].map((r) => retryDelaySeconds('BACKOFF_RETRY', r, () => 0.99))).toEqual([
      19.9,
      19.9,
      19.9,
      undefined,
    ]);
  });
});

describe('HTTP trigger', () => {
  it('maps a real request to the FC 3.0 event and the handler result back', async () => {
    stack = await startFixture();
    const res = await request(`${stack.runtime.httpUrl}/echo/a%20b?x=1&x=2&y=z`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
      body: '{"hi":1}',
    });
    expect(res.statusCode).toBe(200);
    const requestId = res.headers['x-fc-request-id'];
    const event = (await res.body.json()) as Record<string, any>;
    expect(event).toMatchObject({
      version: 'v1',
      rawPath: '/echo/a%20b',
      body: '{"hi":1}',
      isBase64Encoded: false,
      queryParameters: { x: '1,2', y: 'z' },
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
      requestContext: {
        accountId: '1111222233334444',
        requestId,
        time: '2024-01-01T00:00:30Z',
        timeEpoch: String(START_MS),
        http: { method: 'POST', path: '/echo/a b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
  });

  it('base64-encodes binary bodies both ways and joins multi-valued response headers', async () => {
    stack = await startFixture();
    const echoed = await request(`${stack.runtime.httpUrl}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0xff, 0x00]),
    });
    expect(await echoed.body.json()).toMatchObject({ body: '/wA=', isBase64Encoded: true });
    const bin = await request(`${stack.runtime.httpUrl}/binary`);
    expect(bin.statusCode).toBe(201);
    expect(bin.headers['x-multi']).toBe('a,b');
    expect(Buffer.from(await bin.body.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('answers a thrown handler with 502 and x-fc-error-type, a plain result as a JSON 200, a wrong method with 405', async () => {
    stack = await startFixture();
    const thrown = await request(`${stack.runtime.httpUrl}/throw`);
    expect(thrown.statusCode).toBe(502);
    expect(thrown.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(await thrown.body.json()).toEqual({ errorMessage: 'web handler failed on purpose', errorType: 'Error' });
    const plain = await request(`${stack.runtime.httpUrl}/plain`);
    expect(plain.statusCode).toBe(200);
    expect(await plain.body.json()).toEqual({ hello: 'world' });
    const put = await request(`${stack.runtime.httpUrl}/echo`, { method: 'PUT', body: 'x' });
    expect(put.statusCode).toBe(405);
    await put.body.dump();
  });
});

interface WorkerCall {
  payload: { id: string };
  attempt: number;
  requestId: string;
  now: number;
}

describe('async invocation', () => {
  it('retries a failing invocation maxAsyncRetryAttempts times on the clock with the same request id', async () => {
    stack = await startFixture();
    const ok = stack.runtime.invokeAsync('worker', { id: 'a', failTimes: 2 });
    await stack.runtime.settled();
    await stack.clock.advance(10_000);
    const outcome = await ok.completion;
    expect(outcome).toMatchObject({ status: 'succeeded', attempts: 3 });
    const attempts = calls<WorkerCall>('worker').filter((c) => c.payload.id === 'a');
    expect(attempts.map((c) => c.now - START_MS)).toEqual([0, 1000, 3000]);
    expect(new Set(attempts.map((c) => c.requestId))).toEqual(new Set([ok.requestId]));

    const failing = stack.runtime.invokeAsync('worker', { id: 'b', failTimes: 99 });
    await stack.runtime.settled();
    await stack.clock.advance(60_000);
    expect(await failing.completion).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('is what a function reaches through the installed platform invoker', async () => {
    stack = await startFixture();
    const relayed = await stack.runtime.invoke('relay', Buffer.from('{"id":"via-relay","failTimes":0}'));
    expect(relayed.payload.toString()).toBe('queued');
    await stack.runtime.settled();
    expect(calls<WorkerCall>('worker').map((c) => c.payload)).toEqual([{ id: 'via-relay', failTimes: 0 }]);
  });

  it("refuses payloads over FC's 128 KB async limit", async () => {
    stack = await startFixture();
    expect(() => stack!.runtime.invokeAsync('worker', 'x'.repeat(128 * 1024 + 1))).toThrow(
      /async payload is 131073 bytes/,
    );
  });

  it('runs at most asyncConcurrency async invocations of a function at once, FIFO, each timed from its start', async () => {
    const gauge = { active: 0, max: 0 };
    (globalThis as Record<symbol, unknown>)[Symbol.for('livecycle.test.gauge')] = gauge;
    stack = await startFixture({ asyncConcurrency: 2 });
    // gauge's timeout is 2 s and each holds 1.5 s: the later ones wait longer than the timeout in
    // the queue, so they only succeed if their timeout starts when they start.
    const invocations = Array.from({ length: 10 }, (_, i) =>
      stack!.runtime.invokeAsync('gauge', { id: i, holdMs: 1500 }),
    );
    let done = 0;
    for (const inv of invocations) void inv.completion.then(() => done++);
    // Advance the clock only once the expected invocations have started (their handler ran).
    const until = async (cond: () => boolean) => {
      for (let turns = 0; !cond(); turns++) {
        if (turns > 10_000) throw new Error('gave up waiting for the runtime');
        await new Promise<void>((r) => setImmediate(r));
      }
    };
    while (done < invocations.length) {
      const batch = Math.min(2, invocations.length - done);
      await until(() => gauge.active >= batch);
      const before = done;
      await stack.clock.advance(1500);
      await until(() => done >= before + batch);
    }
    const outcomes = await Promise.all(invocations.map((inv) => inv.completion));
    expect(outcomes.map((o) => [o.status, o.attempts])).toEqual(invocations.map(() => ['succeeded', 1]));
    const starts = calls<{ id: number; active: number }>('gauge');
    expect(starts.map((c) => c.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...starts.map((c) => c.active))).toBe(2);
    expect(gauge.max).toBe(2);
    await stack.runtime.settled();
  });

  it('cancels queued async invocations on stop', async () => {
    stack = await startFixture({ asyncConcurrency: 1 });
    const first = stack.runtime.invokeAsync('gauge', { id: 'first', holdMs: 500 });
    const queued = stack.runtime.invokeAsync('gauge', { id: 'queued', holdMs: 500 });
    await stack.runtime.stop();
    expect(await queued.completion).toMatchObject({ status: 'cancelled', attempts: 0 });
    await stack.clock.advance(500);
    expect(await first.completion).toMatchObject({ status: 'succeeded' });
    expect(calls<{ id: string }>('gauge').map((c) => c.id)).toEqual(['first']);
    stack = undefined;
  });

  it('cancels scheduled retries on stop', async () => {
    stack = await startFixture();
    const failing = stack.runtime.invokeAsync('worker', { id: 'c', failTimes: 99 });
    await stack.runtime.settled();
    await stack.runtime.stop();
    expect(await failing.completion).toMatchObject({ status: 'cancelled', attempts: 1 });
    stack = undefined;
  });
});

describe('the log stream', () => {
  it('carries runtime and context.logger lines of every function, each tagged with fn and requestId, secrets masked', async () => {
    stack = await startFixture();
    const tick = await stack.runtime.invoke('tick', Buffer.from('{}'));
    const worker = await stack.runtime.invoke('worker', Buffer.from('{"id":"log","failTimes":0}'));
    const tagged = stack.lines.filter((l) => l.requestId);
    expect(tagged.filter((l) => l.fn === 'tick' && l.requestId === tick.requestId).map((l) => l.msg)).toEqual([
      `FC Invoke Start RequestId: ${tick.requestId}`,
      'tick ran',
      `FC Invoke End RequestId: ${tick.requestId}`,
    ]);
    expect(tagged.filter((l) => l.fn === 'worker' && l.requestId === worker.requestId)).toHaveLength(2);
    for (const line of stack.rawLines) {
      expect(line).not.toContain(STS_SECRET);
      expect(line).not.toContain(STS_TOKEN);
    }
  });
});
