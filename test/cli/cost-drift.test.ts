/**
 * `livecycle cost` and `livecycle drift` against a real local stack (bootStack in this process,
 * frozen clock; the built CLI attaches through the data dir's stack.json).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../shared/ledger';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { bootStack, type LocalStack } from '../../local/stack';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET } from '../../local/emulator';
import { ensureBuilt } from '../helpers/build';
import { cli, createAndPush, passStackTime, ROOT } from './helpers';

/** Ceiling for tests that spawn the CLI several times (a loaded 2-core machine); not a timing assertion. */
const SPAWNS_TIMEOUT = 120_000;

let stack: LocalStack;
let dataDir: string;
let bucket: OssBucket;

beforeAll(async () => {
  ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'livecycle-cost-'));
  stack = await bootStack({
    root: ROOT,
    dataDir,
    apiPort: 0,
    emulatorPort: 0,
    rate: 0,
    startMs: Date.UTC(2024, 4, 1, 12, 0, 30),
    logSink: () => {},
  });
  bucket = new OssClient({
    endpoint: stack.emulator.url,
    region: stack.emulator.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret }),
  }).bucket(DEFAULT_BUCKET);
  await createAndPush(stack, 'cam-cost');
  await passStackTime(stack, 20_000);
  await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: 'cam-cost' });
  await passStackTime(stack, 3 * 60_000);
}, SPAWNS_TIMEOUT);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('livecycle cost', () => {
  it(
    '--now lists the bucket first: bytes equal the sizes under the prefix; requests counted by the stack’s functions',
    async () => {
      const res = await cli(['cost', '--data', dataDir, '--now', '--json']);
      expect(res.code, res.stderr).toBe(0);
      const report = JSON.parse(res.stdout) as {
        prices: Record<string, unknown>;
        channels: { name: string; bytes: number; objects: number; requests: { byOperation: Record<string, number> } }[];
      };
      expect(report.prices).toMatchObject({
        region: 'cn-hangzhou',
        asOf: expect.any(String),
        source: expect.any(String),
      });
      const row = report.channels.find((c) => c.name === 'cam-cost')!;
      let bytes = 0;
      let objects = 0;
      for await (const o of bucket.iterateObjects({ prefix: 'cam-cost/' })) {
        bytes += o.size;
        objects++;
      }
      expect({ objects: row.objects, bytes: row.bytes }).toEqual({ objects, bytes });
      expect(row.requests.byOperation.GetLiveChannelStat).toBeGreaterThan(0);

      const table = await cli(['cost', '--data', dataDir]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^prices: cn-hangzhou, as of /m);
      expect(table.stdout).toMatch(/^cam-cost\s+\d+\s+[\d.]+ KiB\s+\d+/m);
      expect(table.stdout).toMatch(/^total: 1 channels/m);
    },
    SPAWNS_TIMEOUT,
  );
});

describe('livecycle drift', () => {
  it(
    'the dry run prints the items and a plan id; --fix needs it, applies it and records who',
    async () => {
      await bucket.putLiveChannel('outsider', {});
      await bucket.putObject('exports/a.csv', 'not ours');
      const dry = await cli(['drift', '--data', dataDir]);
      expect(dry.code, dry.stderr).toBe(3);
      expect(dry.stdout).toMatch(/untracked-channel\s+outsider\s+→ adopt/);
      expect(dry.stdout).toMatch(/foreign-prefix\s+exports\/\s+→ leave \(not by --fix\)/);
      const planId = /livecycle drift --fix (plan-\S+)/.exec(dry.stdout)?.[1];
      expect(planId).toBeDefined();
      const ledger = new Ledger(bucket);
      expect(await ledger.getChannel('outsider')).toBeUndefined();

      const bare = await cli(['drift', '--data', dataDir, '--fix']);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('--fix needs the plan id a dry run printed');
      const unknown = await cli(['drift', '--data', dataDir, '--fix', 'plan-1-000000000000']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no drift plan plan-1-000000000000');

      const fix = await cli(['drift', '--data', dataDir, '--fix', planId!, '--by', 'ops-1']);
      expect(fix.code, fix.stderr).toBe(0);
      expect(fix.stdout).toMatch(/applied adopt untracked-channel:outsider/);
      expect(await ledger.getChannel('outsider')).toMatchObject({ channel: 'outsider' });
      expect((await ledger.cost.listDriftActions(planId!)).map((a) => a.by)).toEqual(['ops-1']);
      const after = await cli(['drift', '--data', dataDir, '--json']);
      expect(after.code).toBe(3);
      expect((JSON.parse(after.stdout) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([
        'foreign-prefix:exports/',
      ]);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'both commands have --help and need a running stack',
    async () => {
      const empty = mkdtempSync(join(tmpdir(), 'livecycle-cost-empty-'));
      try {
        for (const name of ['cost', 'drift']) {
          const help = await cli([name, '--help']);
          expect(help.stdout).toContain(`Usage: livecycle ${name}`);
          const none = await cli([name, '--data', empty]);
          expect(none.code).toBe(1);
          expect(none.stderr).toContain('no running stack');
        }
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    },
    SPAWNS_TIMEOUT,
  );
});
