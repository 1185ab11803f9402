/**
 * `livecycle start` as a person meets it: a bad function environment refuses to start (naming
 * function, variable, value), shell variables override s.yaml and are announced, human log lines
 * (forced with --log-format human on a non-TTY), the full JSON in the data dir, the Ctrl-C
 * summary, commands that run without npx, and — in process, on a frozen clock — when a VOD is
 * expected after a push ends and how to play it once ready.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { signApiRequest } from '../../shared/api/auth';
import { ControlledClock } from '../../shared/clock';
import { bootStack } from '../../local/stack';
import { terminalOutput } from '../../local/commands/start-output';
import { DEFAULT_BUCKET, startEmulator } from '../../local/emulator';
import { startRuntime } from '../../local/runtime';
import { ensureBuilt } from '../helpers/build';
import { cli, createAndPush, ROOT } from './helpers';

const SPAWNS_TIMEOUT = 90_000;
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project root like ROOT whose s.yaml has `IDLE_AFTER: <value>` (dist/ and functions/ linked). */
function rootWithIdleAfter(value: string): string {
  const root = tempDir('livecycle-root-');
  writeFileSync(
    join(root, 's.yaml'),
    readFileSync(join(ROOT, 's.yaml'), 'utf8').replace("IDLE_AFTER: '1800'", `IDLE_AFTER: '${value}'`),
  );
  symlinkSync(join(ROOT, 'dist'), join(root, 'dist'));
  symlinkSync(join(ROOT, 'functions'), join(root, 'functions'));
  return root;
}

/** Runs `livecycle start` until `ready(stderr so far)`, then `during`, then Ctrl-C (SIGINT). */
async function startSession(
  args: string[],
  env: Record<string, string>,
  during: (banner: string, stdout: () => string) => Promise<void>,
) {
  ensureBuilt();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'start', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => void (stdout += c.toString()));
  const exited = new Promise<number>((done) => child.on('exit', (code) => done(code ?? -1)));
  await new Promise<void>((ready, fail) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('Ctrl-C stops.')) ready();
    });
    void exited.then(() => fail(new Error(`start exited early: ${stderr}`)));
  });
  await during(stderr, () => stdout);
  child.kill('SIGINT');
  const code = await exited;
  return { code, stdout, stderr };
}

async function until(what: string, check: () => boolean): Promise<void> {
  // Waits for output the process owes us; the test's own timeout is the ceiling.
  while (!check()) await new Promise((r) => setTimeout(r, 50));
  expect(check(), what).toBe(true);
}

describe('livecycle start: configuration', () => {
  it(
    'refuses a bad value in s.yaml before serving, naming every function, the variable and the value (exit 1)',
    async () => {
      const root = rootWithIdleAfter('abc');
      const out = await cli(['start', '--data', join(root, '.data'), '--port', '0', '--emulator-port', '0'], {}, root);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('livecycle start: cannot start: invalid function environment');
      for (const fn of ['poll-stat', 'api', 'generate-vod', 'cleanup-orphans'])
        expect(out.stderr).toContain(`  ${fn}: IDLE_AFTER: must be a whole number >= 1, got "abc"`);
      expect(out.stderr).not.toContain('Ctrl-C');
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'a shell variable overrides s.yaml, is validated the same way, and is announced',
    async () => {
      const bad = await cli(['start', '--data', tempDir('livecycle-data-'), '--port', '0', '--emulator-port', '0'], {
        IDLE_AFTER: 'abc',
      });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('poll-stat: IDLE_AFTER: must be a whole number >= 1, got "abc" (set in your shell)');

      const session = await startSession(
        [
          '--data',
          tempDir('livecycle-data-'),
          '--port',
          '0',
          '--emulator-port',
          '0',
          '--rate',
          '0',
          '--log-format',
          'json',
        ],
        { IDLE_AFTER: '120', OSS_ENDPOINT: 'elsewhere', API_TOKEN: 'a-shell-token-of-some-length' },
        async () => {},
      );
      expect(session.stderr).toMatch(/^from your shell, over s\.yaml: API_TOKEN=\(hidden\) IDLE_AFTER="120"$/m);
      expect(session.stderr).toMatch(/^ignored from your shell \(the local stack sets them\): OSS_ENDPOINT$/m);
      expect(session.stderr).not.toContain('a-shell-token-of-some-length');
    },
    SPAWNS_TIMEOUT,
  );

  it('the handler itself fails its first invocation with the same message when nothing checked first', async () => {
    ensureBuilt();
    const clock = new ControlledClock({ rate: 0 });
    const emulator = await startEmulator({ port: 0, buckets: [DEFAULT_BUCKET], clock });
    const runtime = await startRuntime({
      sYamlPath: join(ROOT, 's.yaml'),
      distDir: join(ROOT, 'dist'),
      clock,
      mintCredentials: async () => emulator.mintSts({ ttlSeconds: 3600 }),
      env: { OSS_ENDPOINT: emulator.url, OSS_PATH_STYLE: 'true', BUCKETS: DEFAULT_BUCKET, IDLE_AFTER: 'abc' },
      serveTriggers: false,
      logSink: () => {},
    });
    try {
      const outcome = await runtime.invoke('disable-idle', Buffer.from('{}'));
      expect(outcome).toMatchObject({
        status: 'failed',
        error: { type: 'UnhandledInvocationError', message: 'IDLE_AFTER: must be a whole number >= 1, got "abc"' },
      });
    } finally {
      await runtime.stop();
      await emulator.stop();
    }
  });
});

describe('livecycle start: what it prints', () => {
  it(
    'human lines per invocation on stdout, full JSON in the data dir, npx-free commands, and what Ctrl-C stopped',
    async () => {
      const dataDir = tempDir('livecycle-data-');
      const session = await startSession(
        ['--data', dataDir, '--port', '0', '--emulator-port', '0', '--rate', '0', '--log-format', 'human'],
        {},
        async (banner, stdout) => {
          const api = /^api: +(\S+)$/m.exec(banner)![1]!;
          // The console's one-time login link: the token in the fragment, never sent to the server.
          expect(banner).toContain(`console:   ${api}/console/#login=`);
          const res = await request(`${api}/channels`);
          await res.body.dump();
          const path = '/channels';
          const signed = await request(`${api}${path}`, {
            headers: signApiRequest({
              method: 'GET',
              path,
              body: '',
              secret: readFileSync(join(dataDir, 'api-secret'), 'utf8').trim(),
              now: Date.now(),
            }),
          });
          await signed.body.dump();
          await until(
            'two api invocation lines',
            () =>
              stdout()
                .split('\n')
                .filter((l) => l.includes('http GET /channels')).length === 2,
          );
        },
      );
      expect(session.code).toBe(0);
      const lines = session.stdout.trimEnd().split('\n');
      // One line per invocation: time, function, trigger, outcome, duration; no colour on a pipe.
      for (const line of lines.filter((l) => l.includes('http GET')))
        expect(line).toMatch(/^\d\d:\d\d:\d\d {2}api {11}http GET \/channels {9}ok {2}\d+ ms$/);
      expect(session.stdout).not.toContain('\u001b[');
      expect(session.stdout).not.toContain('{"level"');
      // The JSON is all in the file.
      const json = readFileSync(join(dataDir, 'logs', 'livecycle.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(json.filter((r) => r.fn === 'api' && String(r.msg).startsWith('FC Invoke End'))).toHaveLength(2);
      // Commands resolve locally: no npx anywhere.
      expect(session.stderr).not.toContain('npx');
      expect(session.stderr).toMatch(
        /^ {2}node bin\/livecycle\.js push cam-1 --seconds 60 --endpoint http:\/\/127\.0\.0\.1:\d+ \[--url '<publishUrl>'\]$/m,
      );
      expect(session.stderr).toContain(`node bin/livecycle.js channels --data ${dataDir}`);
      expect(session.stderr).toMatch(/^fc api: +http:\/\/127\.0\.0\.1:\d+ /m);
      expect(session.stderr).toContain(`stopped: the api, 6 functions and their triggers, the FC API, the emulator.`);
      expect(session.stderr).toContain(
        `data kept in ${dataDir} (emulator objects, ledger, api secret); log in ${join(dataDir, 'logs', 'livecycle.jsonl')}`,
      );
      expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    '--log-format json restores the JSON stream; a bad format is a usage error',
    async () => {
      const session = await startSession(
        [
          '--data',
          tempDir('livecycle-data-'),
          '--port',
          '0',
          '--emulator-port',
          '0',
          '--rate',
          '0',
          '--log-format',
          'json',
        ],
        {},
        async (_b, stdout) => {
          await until('the runtime line', () => stdout().includes('local runtime started'));
        },
      );
      expect(JSON.parse(session.stdout.trim().split('\n')[0]!)).toMatchObject({ msg: 'local runtime started' });
      const bad = await cli(['start', '--log-format', 'pretty']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--log-format must be human or json, got pretty');
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'after a push ends: when the VOD is expected, then that it is ready and how to play it',
    async () => {
      ensureBuilt();
      const dataDir = tempDir('livecycle-data-');
      const out: string[] = [];
      const output = terminalOutput({
        dataDir,
        format: 'human',
        colour: false,
        publicRead: true,
        out: (line) => void out.push(line),
      });
      const stack = await bootStack({
        root: ROOT,
        dataDir,
        apiPort: 0,
        emulatorPort: 0,
        rate: 0,
        startMs: Date.UTC(2024, 4, 1, 5, 14, 50),
        publicRead: true,
        logSink: output.sink,
      });
      const pushes = output.watch(stack);
      try {
        await createAndPush(stack, 'cam-1');
        pushes.check();
        await stack.clock.advance(10_000);
        await stack.runtime.settled();
        await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: 'cam-1' });
        pushes.check();
        // Ended 05:15:00; window 60 s (+5 s skew allowance) → the 05:17:00 poll concludes it.
        expect(out.filter((l) => l.includes('expected by'))).toEqual([
          '05:15:00  VOD for cam-1 expected by 05:17:00: reconnect window 60 s + next poll',
        ]);
        for (let t = 0; t < 125; t++) {
          await stack.clock.advance(1000);
          await stack.runtime.settled();
        }
        const ready = out.findIndex((l) => /^05:17:00 {2}VOD for cam-1 ready: cam-1\/\S+\.m3u8$/.test(l));
        expect(ready, out.join('\n')).toBeGreaterThan(-1);
        const play = /^ {10}play: ffplay '(http:\/\/127\.0\.0\.1:\d+\/livecycle-demo\/cam-1\/\S+\.m3u8)'$/.exec(
          out[ready + 1] ?? '',
        );
        expect(play, out[ready + 1]).not.toBeNull();
        // The command works: the playlist is readable without credentials on the local stack.
        const playlist = await request(play![1]!);
        expect(playlist.statusCode).toBe(200);
        expect(await playlist.body.text()).toContain('#EXT-X-ENDLIST');
      } finally {
        pushes.stop();
        await stack.stop();
        output.log.close();
      }
    },
    SPAWNS_TIMEOUT,
  );
});
