/**
 * `channels`, `cleanup --plan` and `sign-request` against a real local stack (bootStack in this
 * process, frozen clock; the built CLI attaches to it through its data dir's stack.json), and
 * their usage errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, signApiRequest } from '../../shared/api/auth';
import type { HttpRequest } from '../../shared/api/event';
import type { CleanupRunReport } from '../../shared/cleanup';
import { Ledger } from '../../shared/ledger';
import type { OssBucket } from '../../shared/oss';
import type { LocalStack } from '../../local/stack';
import { DEFAULT_BUCKET } from '../../local/emulator';
import { bootTestStack, cli, passStackTime, shellWords } from './helpers';

/** Ceiling for tests that spawn the CLI several times (a loaded 2-core machine); not a timing assertion. */
const SPAWNS_TIMEOUT = 90_000;

let stack: LocalStack;
let dataDir: string;
let emptyDir: string;
let bucket: OssBucket;

async function api(method: 'POST' | 'DELETE', path: string, body?: object): Promise<Record<string, unknown>> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const res = await request(`${stack.runtime.httpUrl}${path}`, {
    method,
    headers: {
      ...signApiRequest({ method, path, body: text, secret: stack.apiSecret, now: stack.clock.now() }),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? text : undefined,
  });
  const json = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`);
  return json;
}

async function push(channel: string, publishUrl: string, ms: number): Promise<void> {
  await stack.emulator.ingest.start({ bucket: DEFAULT_BUCKET, channel, signedUrl: publishUrl });
  await passStackTime(stack, ms);
  await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel });
}

async function fragments(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of bucket.iterateObjects({ prefix })) if (o.key.endsWith('.ts')) keys.push(o.key);
  return keys;
}

beforeAll(async () => {
  ({ stack, dataDir, bucket } = await bootTestStack('cli'));
  emptyDir = mkdtempSync(join(tmpdir(), 'livecycle-cli-empty-'));

  // cam-vod: one broadcast, ended and made into a VOD. cam-idle: never pushed.
  const vod = await api('POST', '/channels', { name: 'cam-vod' });
  await api('POST', '/channels', { name: 'cam-idle', snapshot: false });
  await push('cam-vod', String(vod.publishUrl), 30_000);
  await passStackTime(stack, 3 * 60_000);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
});

describe('livecycle channels', () => {
  it(
    'tables every channel from OSS and the ledger: status, live state, last broadcast, VODs',
    async () => {
      const res = await cli(['channels', '--data', dataDir]);
      expect(res.code, res.stderr).toBe(0);
      const lines = res.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+STATUS\s+LAST BROADCAST\s+VODS$/);
      expect(lines.find((l) => l.startsWith('cam-vod'))).toMatch(
        /^cam-vod\s+enabled, Idle\s+2024-05-01 12:00:30Z, 30s\s+1$/,
      );
      expect(lines.find((l) => l.startsWith('cam-idle'))).toMatch(/^cam-idle\s+enabled, Idle\s+-\s+0$/);

      const json = await cli(['channels', '--data', dataDir, '--json']);
      const rows = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { name: string; vods: number; lastBroadcast: { pushes: number } | null });
      expect(rows.map((r) => [r.name, r.vods, r.lastBroadcast?.pushes ?? null])).toEqual([
        ['cam-idle', 0, null],
        ['cam-vod', 1, 1],
      ]);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'says when no stack runs (exit 1) and rejects bad arguments (exit 2)',
    async () => {
      const none = await cli(['channels', '--data', emptyDir]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(`no running stack in ${emptyDir}`);
      for (const [args, message] of [
        [['channels', '--colour'], "Unknown option '--colour'"],
        [['channels', '--endpoint', 'oss-cn-hangzhou.aliyuncs.com'], '--endpoint needs --bucket'],
        [['channels', '--data', dataDir, '--bucket', 'other-bucket'], 'not other-bucket'],
      ] as const) {
        const res = await cli([...args]);
        expect(res.code, args.join(' ')).toBe(2);
        expect(res.stderr).toContain(message);
      }
    },
    SPAWNS_TIMEOUT,
  );
});

describe('livecycle cleanup --plan', () => {
  it(
    'prints the dry run per channel, with candidates, bytes and reasons, and deletes nothing',
    async () => {
      // cam-gone: pushed, then deleted at once (the DELETE builds its VOD first), and that VOD discarded by
      // the operator — its fragments are orphans.
      const gone = await api('POST', '/channels', { name: 'cam-gone' });
      await push('cam-gone', String(gone.publishUrl), 30_000);
      await passStackTime(stack, 1000);
      await api('DELETE', '/channels/cam-gone');
      for await (const o of bucket.iterateObjects({ prefix: 'cam-gone/vod-' })) await bucket.deleteObject(o.key);
      const before = await fragments('cam-gone/');

      const res = await cli(['cleanup', '--plan', '--data', dataDir, '--grace', '0']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^settings: grace 0 s, VOD retention forever/m);
      expect(res.stdout).toMatch(
        /^cam-gone\/ {2}\(tombstoned\)\n {2}would delete: 3 objects, [\d.]+ KiB\n {2}kept: 3 in a playlist/m,
      );
      expect(res.stdout).toMatch(
        /^cam-vod\/ {2}\(exists\)\n {2}would delete: 0 objects, 0 B\n {2}kept: 6 channel exists/m,
      );
      expect(res.stdout).toMatch(/^total: would delete 3 objects.*; 1 folder out of scope$/m);
      // The ledger's own folder: named, not just counted.
      expect(res.stdout).toMatch(/^out of scope \(never touched\): _livecycle\/$/m);
      expect(await fragments('cam-gone/')).toEqual(before);

      const json = await cli(['cleanup', '--plan', '--data', dataDir, '--grace', '0', '--json']);
      const report = JSON.parse(json.stdout) as CleanupRunReport;
      expect(report.dryRun).toBe(true);
      expect(report.keys.listed.every((k) => before.includes(k))).toBe(true);
      // Stored like any dry run's report.
      expect((await new Ledger(bucket).latestCleanupReport())?.runId).toBe(report.runId);

      // s.yaml's own grace (a day): nothing is old enough yet.
      const defaults = await cli(['cleanup', '--plan', '--data', dataDir]);
      expect(defaults.stdout).toMatch(
        /^cam-gone\/ {2}\(tombstoned\)\n {2}would delete: 0 objects, 0 B\n {2}kept: .*younger than the grace period/m,
      );
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'needs --plan and a running stack',
    async () => {
      const bare = await cli(['cleanup', '--data', dataDir]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('--plan is required');
      const badGrace = await cli(['cleanup', '--plan', '--grace', 'soon']);
      expect(badGrace.code).toBe(2);
      expect(badGrace.stderr).toContain('--grace must be whole seconds');
      const none = await cli(['cleanup', '--plan', '--data', emptyDir]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no running stack');
    },
    SPAWNS_TIMEOUT,
  );
});

describe('livecycle sign-request', () => {
  /** The request the printed curl would send, as the api decodes it. */
  function requestOf(curl: string): { url: URL; request: HttpRequest } {
    const words = shellWords(curl);
    expect(words.slice(0, 2)).toEqual(['curl', '-sS']);
    const method = words[words.indexOf('-X') + 1]!;
    const url = new URL(words[4]!);
    const headers: Record<string, string> = {};
    words.forEach((w, i) => {
      if (words[i - 1] !== '-H') return;
      const colon = w.indexOf(':');
      headers[w.slice(0, colon).toLowerCase()] = w.slice(colon + 1).trim();
    });
    const dataAt = words.indexOf('--data');
    const path = decodeURIComponent(url.pathname);
    return {
      url,
      request: {
        method,
        path,
        segments: path.split('/').slice(1),
        query: Object.fromEntries(url.searchParams),
        headers,
        body: Buffer.from(dataAt < 0 ? '' : words[dataAt + 1]!),
        sourceIp: '127.0.0.1',
        requestId: 'sign-request-test',
      },
    };
  }

  it(
    'prints a curl whose signature verifies with shared/api auth and that the api accepts',
    async () => {
      const res = await cli(['sign-request', 'GET', '/channels?limit=5', '--data', dataDir]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(stack.apiSecret);
      const { url, request: signed } = requestOf(res.stdout.trim());
      expect(url.origin).toBe(stack.runtime.httpUrl);
      expect(signed.query).toEqual({ limit: '5' });
      const auth = createAuthenticator({ secrets: [stack.apiSecret], clock: stack.clock });
      await expect(auth.authenticate(signed)).resolves.toBe('signature');

      // And the real api over HTTP takes it.
      const sent = await request(url, { headers: signed.headers });
      expect(sent.statusCode, await sent.body.text()).toBe(200);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'signs a body and reads the secret from --secret-env, never printing it',
    async () => {
      const secret = 'env-secret-for-sign-request-test';
      const res = await cli(
        [
          'sign-request',
          'POST',
          '/channels/cam-vod/vod',
          '--body',
          '{"start":1714564800000,"end":1714564860000}',
          '--secret-env',
          'LC_TEST_SECRET',
          '--url',
          'https://api.example.com/',
        ],
        { LC_TEST_SECRET: secret },
      );
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(secret);
      const { url, request: signed } = requestOf(res.stdout.trim());
      expect(url.href).toBe('https://api.example.com/channels/cam-vod/vod');
      expect(signed.headers['content-type']).toBe('application/json');
      const now = Number(signed.headers['x-livecycle-timestamp']) * 1000;
      await expect(
        createAuthenticator({ secrets: [secret], clock: { now: () => now } }).authenticate(signed),
      ).resolves.toBe('signature');
      await expect(
        createAuthenticator({ secrets: [stack.apiSecret], clock: { now: () => now } }).authenticate(signed),
      ).rejects.toMatchObject({ code: 'bad_signature' });
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'rejects bad arguments with exit 2 and missing secrets with exit 1',
    async () => {
      for (const [args, message] of [
        [['sign-request', 'GET'], 'expected <METHOD> <PATH>'],
        [['sign-request', 'PUT', '/channels'], 'METHOD must be one of GET, POST, DELETE'],
        [['sign-request', 'GET', 'channels'], 'PATH must start with /'],
        [['sign-request', 'POST', '/channels', '--body', '{"name":'], '--body is not JSON'],
        [['sign-request', 'POST', '/channels', '--body', '[1]'], '--body must be a JSON object'],
        [['sign-request', 'GET', '/channels', '--body', '{}'], 'a GET request takes no --body'],
        [['sign-request', 'GET', '/channels', '--secret', 'shh'], 'never taken from the command line'],
      ] as const) {
        const res = await cli([...args]);
        expect(res.code, args.join(' ')).toBe(2);
        expect(res.stderr).toContain(message);
      }
      const unset = await cli([
        'sign-request',
        'GET',
        '/channels',
        '--secret-env',
        'LC_TEST_UNSET_VARIABLE',
        '--url',
        'http://127.0.0.1:1',
      ]);
      expect(unset.code).toBe(1);
      expect(unset.stderr).toContain('LC_TEST_UNSET_VARIABLE is not set');
      const noStack = await cli(['sign-request', 'GET', '/channels', '--data', emptyDir]);
      expect(noStack.code).toBe(1);
      expect(noStack.stderr).toContain('no local api secret');
    },
    SPAWNS_TIMEOUT,
  );
});

describe('livecycle --help', () => {
  it(
    'lists push, play, channels, cleanup and sign-request, each with its own --help',
    async () => {
      const help = await cli(['--help']);
      for (const name of ['push', 'play', 'channels', 'cleanup', 'sign-request']) {
        expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
        const own = await cli([name, '--help']);
        expect(own.code).toBe(0);
        expect(own.stdout).toContain(`Usage: livecycle ${name}`);
      }
    },
    SPAWNS_TIMEOUT,
  );
});
