/**
 * The real s.yaml, the real bundles, the real emulator: every declared function loads and every
 * trigger is served. Skips (saying why) until all six functions/<fn>/index.ts exist.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlledClock } from '../../shared/clock';
import { signApiRequest } from '../../shared/api/auth';
import { startEmulator, DEFAULT_BUCKET, type Emulator } from '../../local/emulator';
import { startRuntime, type MnsDelivery, type Runtime } from '../../local/runtime';
import { syntheticEvent } from '../../local/commands/invoke';
import { loadSYaml } from '../../local/runtime/syaml';
import { ensureBuilt } from '../helpers/build';

const ROOT = join(__dirname, '..', '..');
const declared = loadSYaml(join(ROOT, 's.yaml'), {}).functions;
const missing = declared.filter((f) => !existsSync(join(ROOT, 'functions', f.name, 'index.ts'))).map((f) => f.name);
if (missing.length)
  console.warn(`skipped: the real-stack test waits for functions/${missing.join(', functions/')} (index.ts)`);

const API_SECRET = 'real-stack-test-secret-0123456789';

describe.skipIf(missing.length > 0)('the real s.yaml on the local runtime', () => {
  let emulator: Emulator;
  let runtime: Runtime;
  let clock: ControlledClock;
  const mns: MnsDelivery[] = [];

  beforeAll(async () => {
    ensureBuilt();
    clock = new ControlledClock({ startMs: Date.UTC(2024, 0, 1, 0, 0, 30), rate: 0 });
    emulator = await startEmulator({ port: 0, buckets: [DEFAULT_BUCKET], clock });
    runtime = await startRuntime({
      sYamlPath: join(ROOT, 's.yaml'),
      distDir: join(ROOT, 'dist'),
      clock,
      topics: emulator.topics,
      mintCredentials: async () => emulator.mintSts({ ttlSeconds: 3600 }),
      env: {
        OSS_ENDPOINT: emulator.url,
        OSS_REGION: emulator.region,
        OSS_PATH_STYLE: 'true',
        BUCKETS: DEFAULT_BUCKET,
        API_SECRETS: API_SECRET,
      },
      sYamlEnv: { LIVECYCLE_REGION: emulator.region },
      logSink: () => {},
      onMnsSettled: (d) => mns.push(d),
    });
  });
  afterAll(async () => {
    await runtime?.stop();
    await emulator?.stop();
  });

  it('serves every declared function and trigger', () => {
    expect(runtime.functions.map((f) => f.name).sort()).toEqual(declared.map((f) => f.name).sort());
    expect(runtime.triggers.length).toBe(declared.reduce((n, f) => n + f.triggers.length, 0));
    expect(runtime.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs each timer-triggered function successfully on a synthetic timer event', async () => {
    for (const fn of runtime.functions.filter((f) => f.triggers[0]?.type === 'timer')) {
      const outcome = await runtime.invoke(fn.name, syntheticEvent(fn, clock.now(), '1234567890123456'));
      expect(outcome.status, `${fn.name}: ${outcome.payload.toString()}`).toBe('succeeded');
    }
  });

  it('answers the api over HTTP: unsigned → 401, signed → 200', async () => {
    const unsigned = await request(`${runtime.httpUrl}/channels`);
    expect(unsigned.statusCode).toBe(401);
    await unsigned.body.dump();
    const signed = await request(`${runtime.httpUrl}/channels`, {
      headers: signApiRequest({ method: 'GET', path: '/channels', secret: API_SECRET, now: clock.now() }),
    });
    expect(signed.statusCode, await signed.body.text()).toBe(200);
  });

  it('delivers a snapshot-topic message to on-snapshot', async () => {
    const topic = runtime.triggers.find((t) => t.trigger.type === 'mns_topic')!.trigger;
    await emulator.topics.publish((topic as { topic: string }).topic, '{}');
    await emulator.topics.idle();
    await runtime.settled();
    expect(mns.map((d) => d.status)).toEqual(['delivered']);
  });
});
