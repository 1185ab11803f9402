/**
 * The admin API has no credentials, so it must be unreachable from a web page the developer
 * visits: a custom header (forces a CORS preflight the emulator never approves), a loopback Host
 * (no DNS rebinding) and no foreign Origin. Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { ADMIN_HEADER } from '../../local/emulator/admin-client';
import { adminCall, rawRequest } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
let port: string;
beforeAll(async () => {
  emu = await quietEmulator();
  port = new URL(emu.url).port;
});
afterAll(() => emu.stop());

describe('admin API access', () => {
  it('refuses what a browser can send cross-origin without a preflight: a text/plain POST without the header', async () => {
    const before = emu.clock.now();
    for (const [path, body] of [
      ['/sts', '{"ttlSeconds":3600}'],
      ['/clock', '{"advance":86400000}'],
    ] as const) {
      const res = await rawRequest(
        emu,
        'POST',
        `/_emulator${path}`,
        { 'content-type': 'text/plain', origin: 'http://evil.example' },
        Buffer.from(body),
      );
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.text).error).toContain(ADMIN_HEADER);
      expect(res.text).not.toContain('accessKeySecret');
    }
    expect((await rawRequest(emu, 'GET', '/_emulator/health', {})).status).toBe(403);
    expect(emu.clock.now()).toBe(before);
  });

  it('never approves a CORS preflight', async () => {
    const res = await rawRequest(emu, 'OPTIONS', '/_emulator/sts', {
      origin: 'http://evil.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': ADMIN_HEADER,
    });
    expect(res.status).toBe(403);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses a non-loopback Host (DNS rebinding) even with the header', async () => {
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `10.0.0.1:${port}`,
      'localhost.evil.example',
    ]) {
      const res = await adminCall(emu, 'POST', '/sts', { ttlSeconds: 60 }, { host });
      expect(res.status, host).toBe(403);
      expect(res.json.error).toContain('loopback');
    }
  });

  it('accepts loopback Hosts: 127.0.0.0/8, [::1] and localhost', async () => {
    for (const host of [`127.0.0.1:${port}`, `127.8.9.10:${port}`, `[::1]:${port}`, `localhost:${port}`, 'LOCALHOST']) {
      expect((await adminCall(emu, 'GET', '/health', undefined, { host })).status, host).toBe(200);
    }
  });

  it("refuses a foreign Origin and accepts the emulator's own", async () => {
    const foreign = await adminCall(emu, 'POST', '/clock', { advance: 1 }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error).toContain('origin');
    const own = await adminCall(emu, 'GET', '/clock', undefined, { origin: emu.url });
    expect(own.status).toBe(200);
  });

  it('serves a call with the header (what every local tool sends)', async () => {
    const res = await adminCall(emu, 'POST', '/sts', { ttlSeconds: 60 });
    expect(res.status).toBe(200);
    expect(res.json.accessKeyId).toMatch(/^STS\./);
  });
});
