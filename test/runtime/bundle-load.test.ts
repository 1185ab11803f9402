/**
 * What a function bundle evaluates when FC requires it (its cold start; the time is measured by
 * the bench's cold-start row, never here): none of the modules that only the first request, a
 * playlist, an async invoke or a pino transport need (undici.js and hls-parser.js stay beside the
 * bundle unloaded). Checked by what Node has loaded after the require, in a fresh process per bundle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSYaml } from '../../local/runtime/syaml';
import { ensureBuilt } from '../helpers/build';

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = loadSYaml(join(ROOT, 's.yaml')).functions.map((f) => f.name);

/** Built-ins that only undici (node:http, node:net), node:assert and pino's transports (node:worker_threads) load. */
const NOT_AT_LOAD = ['http', 'net', 'tls', 'assert', 'worker_threads'];

const PROBE = `
const before = new Set(process.moduleLoadList);
const mod = require(process.argv[1]);
const loaded = JSON.stringify({
  handler: typeof mod.handler,
  builtins: process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache),
});
// Only now: process.stdout on a pipe loads node:net.
process.stdout.write(loaded);
`;

function loadInFreshProcess(fn: string): { handler: string; builtins: string[]; files: string[] } {
  const out = execFileSync(process.execPath, ['-e', PROBE, join(ROOT, 'dist', fn, 'index.js')], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out.toString()) as { handler: string; builtins: string[]; files: string[] };
}

describe('function bundles at load', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it.each(FUNCTIONS)('dist/%s loads neither undici, node:http/net/assert/worker_threads nor fc2', (fn) => {
    expect(existsSync(join(ROOT, 'dist', fn, 'undici.js'))).toBe(true);
    const loaded = loadInFreshProcess(fn);
    expect(loaded.handler).toBe('function');
    expect(loaded.builtins.filter((m) => NOT_AT_LOAD.includes(m))).toEqual([]);
    expect(loaded.files).toEqual([join(ROOT, 'dist', fn, 'index.js')]);
  });
});
