/** Seeded fault injection, the admin API for clock/faults/topics, and the topic hub. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { parseFaultSpec, FaultInjector } from '../../local/emulator/faults';
import { adminCall, errorOf, oss } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator();
  await oss(emu, { method: 'PUT', key: 'f.txt', body: 'fault target body' });
});
afterAll(() => emu.stop());

const admin = (method: string, path: string, body?: unknown) => adminCall(emu, method, path, body);

describe('fault injection', () => {
  it('the same seed gives the same sequence of faults', () => {
    const run = () => {
      const f = new FaultInjector(7);
      f.set([{ operation: '*', rate: 0.3, kind: 'internal-error' }]);
      return Array.from({ length: 50 }, () => f.decide('GetObject').fault ?? '-').join(',');
    };
    expect(run()).toBe(run());
    expect(run()).toContain('internal-error');
    expect(run()).toContain('-');
  });

  it('500, 503 (ServiceUnavailable / MetaOperationQpsLimitExceeded) per operation', async () => {
    emu.faults.set([{ operation: 'GetObject', rate: 1, kind: 'internal-error' }]);
    const r500 = await oss(emu, { method: 'GET', key: 'f.txt' });
    expect([r500.status, errorOf(r500).Code]).toEqual([500, 'InternalError']);
    expect((await oss(emu, { method: 'HEAD', key: 'f.txt' })).status).toBe(200);
    emu.faults.set([{ operation: '*', rate: 1, kind: 'throttle' }]);
    const r503 = await oss(emu, { method: 'GET', key: 'f.txt' });
    expect([r503.status, errorOf(r503).Code]).toEqual([503, 'ServiceUnavailable']);
    const live = await oss(emu, { method: 'GET', key: 'ch', query: { live: '', comp: 'stat' } });
    expect([live.status, errorOf(live).Code]).toEqual([503, 'MetaOperationQpsLimitExceeded']);
    emu.faults.set([]);
  });

  it('reset, stall and truncated bodies break the connection; the server keeps serving', async () => {
    emu.faults.set([{ operation: 'GetObject', rate: 1, kind: 'reset' }]);
    await expect(oss(emu, { method: 'GET', key: 'f.txt' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    emu.faults.set([{ operation: 'GetObject', rate: 1, kind: 'stall', ms: 50 }]);
    await expect(oss(emu, { method: 'GET', key: 'f.txt' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    emu.faults.set([{ operation: 'GetObject', rate: 1, kind: 'truncate' }]);
    await expect(oss(emu, { method: 'GET', key: 'f.txt' })).rejects.toThrow(/aborted|ECONNRESET|socket hang up/);
    emu.faults.set([]);
    expect((await oss(emu, { method: 'GET', key: 'f.txt' })).text).toBe('fault target body');
  });

  it('is set and read through the admin API, with validation', async () => {
    const put = await admin('PUT', '/faults', {
      rules: [{ operation: 'PutObject', rate: 0.5, kind: 'latency', ms: 1 }],
      seed: 3,
    });
    expect(put.json).toEqual({ rules: [{ operation: 'PutObject', rate: 0.5, kind: 'latency', ms: 1 }], seed: 3 });
    expect((await admin('GET', '/faults')).json.seed).toBe(3);
    expect((await admin('PUT', '/faults', { rules: [{ operation: '*', rate: 2, kind: 'reset' }] })).status).toBe(400);
    await admin('PUT', '/faults', { rules: [] });
  });

  it('parses CLI specs', () => {
    expect(parseFaultSpec('*:0.05:503')).toEqual({
      operation: '*',
      rate: 0.05,
      kind: 'throttle',
      ms: undefined,
      code: undefined,
    });
    expect(parseFaultSpec('GetObject:1:stall:2000')).toMatchObject({ kind: 'stall', ms: 2000 });
    expect(() => parseFaultSpec('GetObject:x:reset')).toThrow(/rate/);
    expect(() => parseFaultSpec('GetObject:1:explode')).toThrow(/kind/);
  });
});

describe('admin clock', () => {
  it('sets, advances and changes the rate of the emulator clock', async () => {
    const set = await admin('POST', '/clock', { set: '2030-01-01T00:00:00Z' });
    expect(set.json.iso).toBe('2030-01-01T00:00:00.000Z');
    const advanced = await admin('POST', '/clock', { advance: 60_000 });
    expect(advanced.json.iso).toBe('2030-01-01T00:01:00.000Z');
    expect(emu.clock.now()).toBe(Date.UTC(2030, 0, 1, 0, 1));
    expect((await admin('POST', '/clock', { rate: -1 })).status).toBe(400);
    expect((await admin('POST', '/clock', {})).status).toBe(400);
    expect((await admin('GET', '/nowhere')).status).toBe(404);
  });
});

describe('topics', () => {
  it('fans a message out to every subscriber with MessageId and PublishTime from the clock', async () => {
    const got: string[] = [];
    const off = emu.topics.subscribe(
      't1',
      async (m) => void got.push(`a:${m.body}:${m.publishTime === emu.clock.now()}`),
    );
    emu.topics.subscribe('t1', async () => {
      throw new Error('subscriber down');
    });
    emu.topics.subscribe('t1', async (m) => void got.push(`b:${m.messageId.length}`));
    const published = await admin('POST', '/topics/publish', { topic: 't1', body: 'hello' });
    expect(published.json.messageId).toMatch(/^[0-9A-F]{32}$/);
    await emu.topics.idle();
    expect(got).toEqual(['a:hello:true', 'b:32']);
    expect(emu.topics.stats().failedDeliveries).toBe(1);
    off();
    await emu.topics.publish('t1', 'second');
    await emu.topics.idle();
    expect(got).toEqual(['a:hello:true', 'b:32', 'b:32']);
  });
});
