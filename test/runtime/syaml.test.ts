import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSYaml } from '../../local/runtime/syaml';
import { parseSchedule } from '../../local/runtime/scheduler';

const ROOT = join(__dirname, '..', '..');
const S_YAML = join(ROOT, 's.yaml');
/** fc3's schema, vendored with its origin (test/fixtures/fc3/README.md). */
const FC3_SCHEMA = join(ROOT, 'test', 'fixtures', 'fc3', 'schema.json');
const FUNCTIONS = ['api', 'poll-stat', 'disable-idle', 'generate-vod', 'on-snapshot', 'cleanup-orphans'];

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'syaml-'));
  tempDirs.push(dir);
  const file = join(dir, 's.yaml');
  writeFileSync(file, text);
  return file;
}

describe('s.yaml against the fc3 schema', () => {
  it('every resource props validates (draft-07, ajv)', () => {
    const schema = JSON.parse(readFileSync(FC3_SCHEMA, 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const { document } = loadSYaml(S_YAML, {});
    const resources = Object.entries(document.resources ?? {});
    expect(resources).toHaveLength(6);
    for (const [id, res] of resources) {
      const ok = validate(res.props);
      expect(ok, `${id}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('the schema check can fail: a numeric env value and a bad runtime are rejected', () => {
    const schema = JSON.parse(readFileSync(FC3_SCHEMA, 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const props = {
      ...loadSYaml(S_YAML, {}).document.resources!.api!.props,
      runtime: 'nodejs99',
      environmentVariables: { X: 1 },
    };
    expect(validate(props)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/runtime|environmentVariables/);
  });
});

describe('s.yaml: checks the schema misses', () => {
  const spec = loadSYaml(S_YAML, {});

  it('declares the six functions, each with explicit timeout and memory, nodejs20, index.handler', () => {
    expect(spec.functions.map((f) => f.name).sort()).toEqual([...FUNCTIONS].sort());
    for (const f of spec.functions) {
      const props = spec.document.resources![f.resourceId]!.props!;
      expect(props.timeout, f.name).toBeTypeOf('number');
      expect(props.memorySize, f.name).toBeTypeOf('number');
      expect(f.memorySize % 64, f.name).toBe(0);
      expect(f.runtime).toBe('nodejs20');
      expect(f.handler).toBe('index.handler');
      expect(props.role, f.name).toMatch(/^acs:ram::\d+:role\/[a-z0-9-]+$/);
      expect(props.logConfig, f.name).toBeDefined();
    }
  });

  it('gives every function the variables shared/config.ts needs, as strings, secrets only to the api', () => {
    for (const f of spec.functions) {
      for (const v of Object.values(f.environmentVariables)) expect(typeof v).toBe('string');
      for (const name of [
        'OSS_ENDPOINT',
        'OSS_REGION',
        'BUCKETS',
        'LEDGER_PREFIX',
        'LOG_LEVEL',
        'GENERATE_VOD_FUNCTION',
      ])
        expect(f.environmentVariables, `${f.name} ${name}`).toHaveProperty(name);
      expect(
        Object.keys(f.environmentVariables).some((k) => k.startsWith('FC_')),
        `${f.name}: FC_ is reserved`,
      ).toBe(false);
      if (f.name !== 'api') expect(f.environmentVariables, f.name).not.toHaveProperty('API_SECRETS');
    }
    const vod = spec.functions.find((f) => f.name === 'generate-vod')!;
    expect(spec.functions.find((f) => f.name === 'poll-stat')!.environmentVariables.GENERATE_VOD_FUNCTION).toBe(
      vod.functionName,
    );
  });

  it('has 6-field UTC timers, an mns_topic trigger on the snapshot topic, an anonymous HTTP trigger', () => {
    const triggers = spec.functions.flatMap((f) => f.triggers.map((t) => ({ fn: f.name, ...t })));
    for (const t of triggers.filter((t) => t.type === 'timer')) {
      expect(() => parseSchedule(t.cronExpression, 0), `${t.fn}`).not.toThrow();
      expect(t.cronExpression.split(/\s+/), t.fn).toHaveLength(6);
    }
    expect(
      triggers
        .filter((t) => t.type === 'timer')
        .map((t) => t.fn)
        .sort(),
    ).toEqual(['cleanup-orphans', 'disable-idle', 'generate-vod', 'poll-stat']);
    const mns = triggers.find((t) => t.type === 'mns_topic');
    expect(mns).toMatchObject({
      fn: 'on-snapshot',
      topic: 'livecycle-snapshots',
      notifyContentFormat: 'JSON',
      sourceArn: 'acs:mns:cn-hangzhou:1234567890123456:/topics/livecycle-snapshots',
    });
    expect(triggers.find((t) => t.type === 'http')).toMatchObject({ fn: 'api', authType: 'anonymous' });
    const snapshotTopic = spec.functions.find((f) => f.name === 'on-snapshot')!.environmentVariables.SNAPSHOT_TOPIC;
    expect(snapshotTopic).toBe('livecycle-snapshots');
  });

  it('sets asyncInvokeConfig for generate-vod and runs the build before deploy', () => {
    expect(spec.functions.find((f) => f.name === 'generate-vod')!.asyncInvokeConfig).toEqual({
      maxAsyncRetryAttempts: 2,
      maxAsyncEventAgeInSeconds: 3600,
    });
    expect(JSON.stringify(spec.document.actions)).toContain('npm ci && npm run build');
  });
});

describe('s.yaml resolution', () => {
  it('resolves ${vars.x} and ${env(NAME, default)}, the environment winning over the default', () => {
    const withDefaults = loadSYaml(S_YAML, {});
    const api = withDefaults.functions.find((f) => f.name === 'api')!;
    expect(api.region).toBe('cn-hangzhou');
    expect(api.environmentVariables.OSS_ENDPOINT).toBe('oss-cn-hangzhou-internal.aliyuncs.com');
    expect(api.environmentVariables.API_SECRETS).toBe('');
    const custom = loadSYaml(S_YAML, {
      LIVECYCLE_REGION: 'cn-shanghai',
      LIVECYCLE_API_SECRETS: 'a-secret-of-enough-length',
    });
    const api2 = custom.functions.find((f) => f.name === 'api')!;
    expect(api2.region).toBe('cn-shanghai');
    expect(api2.environmentVariables.OSS_ENDPOINT).toBe('oss-cn-shanghai-internal.aliyuncs.com');
    expect(api2.environmentVariables.API_SECRETS).toBe('a-secret-of-enough-length');
    expect(custom.functions.find((f) => f.name === 'on-snapshot')!.triggers[0]).toMatchObject({
      sourceArn: 'acs:mns:cn-shanghai:1234567890123456:/topics/livecycle-snapshots',
    });
  });

  const base = (props: string) =>
    `edition: 3.0.0\nname: t\nvars:\n  r: cn-hangzhou\nresources:\n  f:\n    component: fc3\n    props:\n      region: \${vars.r}\n      functionName: f\n      runtime: nodejs20\n      code: ./dist/f\n      handler: index.handler\n${props}`;
  const sized = '      memorySize: 128\n      timeout: 5\n';

  it.each([
    [
      'an unknown var',
      base(sized).replace('${vars.r}', '${vars.nope}'),
      /resources\.f\.props\.region: \$\{vars\.nope\}: no such entry under vars/,
    ],
    [
      'an unset env without default',
      base(sized).replace('${vars.r}', "${env('LC_UNSET_X')}"),
      /environment variable LC_UNSET_X is not set/,
    ],
    ['an unsupported expression', base(sized).replace('${vars.r}', "${config('AccountID')}"), /not supported locally/],
    ['a missing timeout', base('      memorySize: 128\n'), /props\.timeout: required integer, set explicitly/],
    [
      'a numeric env value',
      base(`${sized}      environmentVariables:\n        N: 5\n`),
      /environmentVariables\.N: must be a string/,
    ],
    [
      'a misspelled timer field',
      base(
        `${sized}      triggers:\n        - triggerName: t\n          triggerType: timer\n          triggerConfig: { cronExpresion: '0 * * * * *', enable: true }\n`,
      ),
      /triggerConfig\.cronExpresion: unknown field for a timer trigger/,
    ],
    [
      'an mns trigger without strategy',
      base(
        `${sized}      triggers:\n        - triggerName: t\n          triggerType: mns_topic\n          sourceArn: acs:mns:cn-hangzhou:1:/topics/x\n          triggerConfig: { notifyContentFormat: JSON }\n`,
      ),
      /notifyStrategy: must be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY/,
    ],
    [
      'a bad sourceArn',
      base(
        `${sized}      triggers:\n        - triggerName: t\n          triggerType: mns_topic\n          sourceArn: acs:mns:cn-hangzhou:1:/queues/x\n          triggerConfig: { notifyContentFormat: JSON, notifyStrategy: BACKOFF_RETRY }\n`,
      ),
      /sourceArn: expected acs:mns:<region>:<accountId>:\/topics\/<topic>/,
    ],
    [
      'an http trigger without methods',
      base(
        `${sized}      triggers:\n        - triggerName: t\n          triggerType: http\n          triggerConfig: { authType: anonymous }\n`,
      ),
      /methods: must be a non-empty list/,
    ],
  ])('rejects %s with an error naming the field', (_, text, message) => {
    expect(() => loadSYaml(writeYaml(text), {})).toThrow(message);
  });
});

describe('timer expressions', () => {
  const at = (iso: string) => Date.parse(iso);
  it('computes the next firing of 6-field cron (UTC), CRON_TZ and @every', () => {
    expect(new Date(parseSchedule('0 */5 * * * *', 0).next(at('2024-01-01T00:04:59Z'))).toISOString()).toBe(
      '2024-01-01T00:05:00.000Z',
    );
    expect(new Date(parseSchedule('0 */5 * * * *', 0).next(at('2024-01-01T00:05:00Z'))).toISOString()).toBe(
      '2024-01-01T00:10:00.000Z',
    );
    expect(
      new Date(parseSchedule('CRON_TZ=Asia/Shanghai 0 0 8 * * *', 0).next(at('2024-01-01T00:00:00Z'))).toISOString(),
    ).toBe('2024-01-02T00:00:00.000Z');
    const origin = at('2024-01-01T00:00:10Z');
    expect(parseSchedule('@every 1h30m', origin).next(origin) - origin).toBe(90 * 60_000);
  });
  it.each([
    ['0 * * * *', /6 fields/],
    ['@every 30s', /at most once a minute/],
    ['0 61 * * * *', /Constraint error/],
  ])('rejects %s', (expr, message) => {
    expect(() => parseSchedule(expr, 0)).toThrow(message);
  });
});
