/**
 * `livecycle start`'s stack with its RTMP port: the api (the real bundle, run by the local
 * runtime from s.yaml) returns a publish URL for that port, and ffmpeg publishes with it as-is.
 * Catches the api not receiving OSS_RTMP_ENDPOINT (the runtime passes only variables s.yaml
 * declares). The push part is skipped, saying why, without ffmpeg.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApiRequest } from '../../shared/api/auth';
import { bootStack, type LocalStack } from '../../local/stack';
import { pushTestPattern } from '../../local/commands/push-rtmp';
import { findFfmpeg } from '../../local/emulator/rtmp/ffmpeg';
import { ensureBuilt } from '../helpers/build';

const ROOT = join(__dirname, '..', '..');
const ffmpeg = findFfmpeg();

describe('livecycle start with an RTMP port', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let dataDir: string;
  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'livecycle-rtmp-stack-'));
    stack = await bootStack({
      root: ROOT,
      dataDir,
      apiPort: 0,
      emulatorPort: 0,
      rtmpPort: 0,
      rate: 0,
      startMs: Date.UTC(2024, 4, 1, 12),
      logSink: () => {},
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands out publish URLs for the RTMP port that ffmpeg can use as-is', async () => {
    const body = JSON.stringify({ name: 'cam-1' });
    const res = await request(`${stack.runtime.httpUrl}/channels`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signApiRequest({ method: 'POST', path: '/channels', body, secret: stack.apiSecret, now: stack.clock.now() }),
      },
      body,
    });
    const created = (await res.body.json()) as { publishUrl: string };
    expect(res.statusCode, JSON.stringify(created)).toBe(201);
    expect(created.publishUrl.startsWith(`${stack.emulator.rtmpOrigin}/live/cam-1?`), created.publishUrl).toBe(true);

    if (!ffmpeg) {
      console.warn('SKIPPED the ffmpeg push of the RTMP stack test: no ffmpeg on PATH and no @ffmpeg-installer/ffmpeg');
      return;
    }
    const err: string[] = [];
    const code = await pushTestPattern({
      url: created.publishUrl,
      seconds: 2,
      out: () => {},
      err: (l) => err.push(l),
      interrupt: new AbortController().signal,
    });
    expect(code, err.join('\n')).toBe(0);
  });
});
