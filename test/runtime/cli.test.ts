import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bootStack, readStackFile, type LocalStack } from '../../local/stack';
import { calls, FIXTURES, resetCalls } from './helpers';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
// tsx's loader by URL: the CLI runs with other working directories, where a bare 'tsx' won't resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Runs the CLI from source (tsx) in `cwd`; resolves with exit code and output. */
async function cli(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'local', 'cli.ts'), ...args], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '', NODE_NO_WARNINGS: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A project root whose s.yaml and dist/ are the fixture stack's (removed after the tests). */
function fixtureRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'livecycle-root-'));
  roots.push(root);
  cpSync(join(FIXTURES, 's.yaml'), join(root, 's.yaml'));
  cpSync(join(FIXTURES, 'bundles'), join(root, 'dist'), { recursive: true });
  return root;
}

describe('livecycle CLI', () => {
  it('lists its commands and rejects unknown ones with exit 2 and a hint', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['start', 'emulator', 'invoke'])
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('livecycle --help');
  });

  it('invoke runs a bundle once with a synthetic event of its trigger type on an embedded emulator', async () => {
    const root = fixtureRoot();
    const tick = await cli(['invoke', 'tick'], root);
    expect(tick.code, tick.stderr).toBe(0);
    expect(JSON.parse(tick.stdout)).toEqual({ ok: true });
    expect(tick.stderr).toContain('embedded empty emulator');

    const eventFile = join(root, 'event.json');
    writeFileSync(eventFile, '{"id":"cli","failTimes":1}');
    const failed = await cli(['invoke', 'fixture-worker', '--event', eventFile], root);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({ errorMessage: 'worker failing attempt 1', errorType: 'Error' });

    const missing = await cli(['invoke', 'nope'], root);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no function "nope"');
    // Refused before anything starts.
    expect(missing.stderr).not.toContain('local runtime started');
    expect(missing.stderr).not.toContain('emulator');

    writeFileSync(eventFile, '{"id": "cli",');
    const malformed = await cli(['invoke', 'fixture-worker', '--event', eventFile], root);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--event .*event\.json is not valid JSON \(.+\)/);
    expect(malformed.stdout).toBe('');
  });

  it('invoke --remote names the missing credentials instead of calling out', async () => {
    const res = await cli(['invoke', 'poll-stat', '--remote'], ROOT);
    const env = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCOUNT_ID'].filter(
      (k) => !process.env[k],
    );
    if (env.length === 0) return; // a developer with real credentials: nothing to assert offline
    expect(res.code).toBe(2);
    for (const k of env) expect(res.stderr).toContain(k);
  });
});

describe('the local stack (livecycle start)', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('boots emulator + runtime from s.yaml, announces itself in the data dir, wires topics and the api', async () => {
    resetCalls();
    const root = fixtureRoot();
    const dataDir = join(root, '.data');
    stack = await bootStack({ root, dataDir, apiPort: 0, emulatorPort: 0, logSink: () => {} });
    const announced = readStackFile(dataDir);
    expect(announced).toMatchObject({
      pid: process.pid,
      emulatorUrl: stack.emulator.url,
      apiUrl: stack.runtime.httpUrl,
    });
    // The emulator's topic hub feeds the MNS triggers.
    await stack.emulator.topics.publish('fixture-topic', 'from the emulator');
    await stack.emulator.topics.idle();
    await stack.runtime.settled();
    expect(calls('snap-json')).toHaveLength(1);
    // Functions see the emulator as their OSS endpoint (an s.yaml-declared variable, overridden).
    await stack.runtime.invoke('tick', Buffer.from('{}'));
    expect(calls<{ env: Record<string, string> }>('tick')[0]!.env.OSS_ENDPOINT).toBe(stack.emulator.url);
    expect(stack.apiSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(readFileSync(join(dataDir, 'api-secret'), 'utf8').trim()).toBe(stack.apiSecret);

    await stack.stop();
    stack = undefined;
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);

    // --fresh wipes the data directory (a new local secret is minted).
    writeFileSync(join(dataDir, 'marker'), 'x');
    stack = await bootStack({ root, dataDir, fresh: true, apiPort: 0, emulatorPort: 0, logSink: () => {} });
    expect(existsSync(join(dataDir, 'marker'))).toBe(false);
  });
});
