import { describe, expect, it } from 'vitest';
import { ConfigError, createOssClient, loadConfig } from '../../shared/config';
import { DEFAULT_PRICES } from '../../shared/lifecycle/cost';
import { scrubSecrets } from '../../shared/log';

const BASE = { OSS_ENDPOINT: 'oss-cn-hangzhou-internal.aliyuncs.com', BUCKETS: 'livecycle-demo' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('cost settings (docs/cost.md)', () => {
  it('COST_PRICES overrides fields of the published defaults; COST_BUDGET_CNY is a decimal, 0 meaning none', () => {
    const c = loadConfig({
      ...BASE,
      COST_PRICES: '{"region":"cn-shanghai","putPer10k":0.02}',
      COST_BUDGET_CNY: '12.5',
    });
    expect(c.costPrices).toEqual({ ...DEFAULT_PRICES, region: 'cn-shanghai', putPer10k: 0.02 });
    expect(c.costBudgetCny).toBe(12.5);
    expect(loadConfig({ ...BASE, COST_BUDGET_CNY: '0' }).costBudgetCny).toBeUndefined();
  });

  it('names the variable and the field at fault', () => {
    expect(errorOf({ ...BASE, COST_PRICES: 'cheap' }).message).toMatch(/^COST_PRICES: must be a JSON object/);
    expect(errorOf({ ...BASE, COST_PRICES: '{"putPer10k":-1}' }).message).toMatch(
      /COST_PRICES: field putPer10k must be a number >= 0/,
    );
    expect(errorOf({ ...BASE, COST_PRICES: '{"putPer10K":1}' }).message).toMatch(
      /COST_PRICES: unknown field "putPer10K"/,
    );
    expect(errorOf({ ...BASE, COST_BUDGET_CNY: '-3' }).message).toMatch(/^COST_BUDGET_CNY: must be a decimal number/);
  });
});

describe('loadConfig', () => {
  it('fills every default from a minimal environment', () => {
    const c = loadConfig(BASE);
    expect(c).toEqual({
      ossEndpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
      ossRegion: undefined,
      ossPathStyle: false,
      ossTimeoutMs: 30_000,
      buckets: ['livecycle-demo'],
      ledgerPrefix: '_livecycle/',
      idleAfterSeconds: 1800,
      reconnectWindowSeconds: 60,
      publishUrlTtlSeconds: 3600,
      apiSecrets: [],
      apiToken: undefined,
      webhookUrl: undefined,
      webhookSecrets: [],
      orphanGraceSeconds: 86400,
      vodRetentionDays: 0,
      dryRun: true,
      cleanupMaxObjects: 10_000,
      cleanupMaxBytes: 10 * 1024 ** 3,
      pollConcurrency: 8,
      pollShardSize: 1000,
      pollIdleMaxIntervalSeconds: 300,
      generateVodFunction: 'generate-vod',
      snapshotTopic: undefined,
      snapshotRoleName: 'AliyunOSSLiveChannelSnapshotRole',
      snapshotIntervalSeconds: 10,
      cleanupChannelPrefixes: [],
      costPrices: DEFAULT_PRICES,
      costBudgetCny: undefined,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.buckets)).toBe(true);
    expect(Object.isFrozen(c.cleanupChannelPrefixes)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      OSS_ENDPOINT: 'http://127.0.0.1:9000',
      OSS_REGION: 'cn-hangzhou',
      OSS_PATH_STYLE: 'true',
      OSS_TIMEOUT_MS: '300',
      BUCKETS: ' livecycle-demo , second-bucket ',
      LEDGER_PREFIX: 'ops/ledger/',
      IDLE_AFTER: '60',
      RECONNECT_WINDOW: '0',
      PUBLISH_URL_TTL: '120',
      API_SECRETS: 'api-secret-one-0123456789,api-secret-two-0123456789',
      API_TOKEN: 'bearer-token-0123456789',
      WEBHOOK_URL: 'https://hooks.example.com/livecycle',
      WEBHOOK_SECRETS:
        'whsec_aG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmNkZWY=,whsec_aG9vay1zZWNyZXQtb2xkLTAxMjM0NTY3ODlhYmNkZWY=',
      ORPHAN_GRACE: '0',
      VOD_RETENTION_DAYS: '30',
      DRY_RUN: 'false',
      CLEANUP_MAX_OBJECTS: '500',
      CLEANUP_MAX_BYTES: '1048576',
      POLL_CONCURRENCY: '4',
      POLL_SHARD_SIZE: '250',
      POLL_IDLE_MAX_INTERVAL: '600',
      GENERATE_VOD_FUNCTION: 'livecycle-generate-vod',
      SNAPSHOT_TOPIC: 'snapshots',
      SNAPSHOT_ROLE: 'livecycle-oss-snapshot',
      SNAPSHOT_INTERVAL: '100',
      CLEANUP_CHANNEL_PREFIXES: 'cam-, lc_ ,',
      LOG_LEVEL: 'DEBUG',
    });
    expect(c).toMatchObject({
      ossEndpoint: 'http://127.0.0.1:9000',
      ossRegion: 'cn-hangzhou',
      ossPathStyle: true,
      ossTimeoutMs: 300,
      buckets: ['livecycle-demo', 'second-bucket'],
      ledgerPrefix: 'ops/ledger/',
      idleAfterSeconds: 60,
      reconnectWindowSeconds: 0,
      publishUrlTtlSeconds: 120,
      apiSecrets: ['api-secret-one-0123456789', 'api-secret-two-0123456789'],
      apiToken: 'bearer-token-0123456789',
      webhookUrl: 'https://hooks.example.com/livecycle',
      webhookSecrets: [
        'whsec_aG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmNkZWY=',
        'whsec_aG9vay1zZWNyZXQtb2xkLTAxMjM0NTY3ODlhYmNkZWY=',
      ],
      orphanGraceSeconds: 0,
      vodRetentionDays: 30,
      dryRun: false,
      cleanupMaxObjects: 500,
      cleanupMaxBytes: 1048576,
      pollConcurrency: 4,
      pollShardSize: 250,
      pollIdleMaxIntervalSeconds: 600,
      generateVodFunction: 'livecycle-generate-vod',
      snapshotTopic: 'snapshots',
      snapshotRoleName: 'livecycle-oss-snapshot',
      snapshotIntervalSeconds: 100,
      cleanupChannelPrefixes: ['cam-', 'lc_'],
      logLevel: 'debug',
    });
  });

  it.each([
    ['OSS_ENDPOINT', { BUCKETS: 'livecycle-demo' }, /required/],
    ['OSS_ENDPOINT', { ...BASE, OSS_ENDPOINT: 'ftp://example.com' }, /http or https/],
    ['OSS_ENDPOINT', { ...BASE, OSS_ENDPOINT: 'http://127.0.0.1:9000/bucket' }, /bare host/],
    ['BUCKETS', { OSS_ENDPOINT: BASE.OSS_ENDPOINT }, /at least one/],
    ['BUCKETS', { ...BASE, BUCKETS: 'Bad_Bucket' }, /not a valid OSS bucket name/],
    ['BUCKETS', { ...BASE, BUCKETS: 'a-bucket,a-bucket' }, /twice/],
    ['IDLE_AFTER', { ...BASE, IDLE_AFTER: 'soon' }, /whole number >= 1, got "soon"/],
    ['IDLE_AFTER', { ...BASE, IDLE_AFTER: '0' }, /whole number >= 1/],
    ['OSS_TIMEOUT_MS', { ...BASE, OSS_TIMEOUT_MS: '0' }, /whole number >= 1/],
    ['RECONNECT_WINDOW', { ...BASE, RECONNECT_WINDOW: '-5' }, /whole number >= 0/],
    ['PUBLISH_URL_TTL', { ...BASE, PUBLISH_URL_TTL: '1.5' }, /whole number/],
    // Above the api's own cap the api would create the channel and then answer 400.
    ['PUBLISH_URL_TTL', { ...BASE, PUBLISH_URL_TTL: '86401' }, /whole number from 1 to 86400, got "86401"/],
    ['PUBLISH_URL_TTL', { ...BASE, PUBLISH_URL_TTL: '0' }, /whole number from 1 to 86400/],
    ['ORPHAN_GRACE', { ...BASE, ORPHAN_GRACE: '1e3' }, /whole number/],
    ['VOD_RETENTION_DAYS', { ...BASE, VOD_RETENTION_DAYS: 'forever' }, /whole number/],
    ['CLEANUP_MAX_OBJECTS', { ...BASE, CLEANUP_MAX_OBJECTS: '0' }, /whole number >= 1/],
    ['CLEANUP_MAX_BYTES', { ...BASE, CLEANUP_MAX_BYTES: '99999999999999999999' }, /whole number/],
    ['POLL_CONCURRENCY', { ...BASE, POLL_CONCURRENCY: 'eight' }, /whole number/],
    ['POLL_SHARD_SIZE', { ...BASE, POLL_SHARD_SIZE: '0' }, /whole number >= 1/],
    ['POLL_IDLE_MAX_INTERVAL', { ...BASE, POLL_IDLE_MAX_INTERVAL: '30' }, /whole number from 60 to 3600/],
    ['POLL_IDLE_MAX_INTERVAL', { ...BASE, POLL_IDLE_MAX_INTERVAL: '90' }, /whole minutes/],
    ['DRY_RUN', { ...BASE, DRY_RUN: 'maybe' }, /true or false/],
    ['OSS_PATH_STYLE', { ...BASE, OSS_PATH_STYLE: '2' }, /true or false/],
    ['LEDGER_PREFIX', { ...BASE, LEDGER_PREFIX: '_livecycle' }, /ending in "\/"/],
    ['LEDGER_PREFIX', { ...BASE, LEDGER_PREFIX: '/abs/' }, /ending in "\/"/],
    ['LEDGER_PREFIX', { ...BASE, LEDGER_PREFIX: 'a/../' }, /ending in "\/"/],
    ['LOG_LEVEL', { ...BASE, LOG_LEVEL: 'verbose' }, /one of/],
    ['GENERATE_VOD_FUNCTION', { ...BASE, GENERATE_VOD_FUNCTION: 'bad name' }, /not a valid function name/],
    [
      'WEBHOOK_URL',
      { ...BASE, WEBHOOK_URL: 'not a url', WEBHOOK_SECRETS: 'whsec_aG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmNkZWY=' },
      /not a valid URL/,
    ],
    [
      'WEBHOOK_URL',
      {
        ...BASE,
        WEBHOOK_URL: 'ftp://hooks.example.com',
        WEBHOOK_SECRETS: 'whsec_aG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmNkZWY=',
      },
      /http or https/,
    ],
    ['WEBHOOK_SECRETS', { ...BASE, WEBHOOK_URL: 'https://hooks.example.com/' }, /required when WEBHOOK_URL/],
    [
      'WEBHOOK_SECRETS',
      { ...BASE, WEBHOOK_SECRETS: 'a-plain-webhook-secret-0123456789' },
      /entry 1 is not a Standard Webhooks secret: it must be written whsec_<base64>/,
    ],
    [
      'WEBHOOK_SECRETS',
      {
        ...BASE,
        WEBHOOK_SECRETS: 'whsec_aG9vay1zZWNyZXQtbmV3LTAxMjM0NTY3ODlhYmNkZWY=,whsec_not-base64-at-all-0123456789',
      },
      /entry 2 is not a Standard Webhooks secret: the part after whsec_ is not base64/,
    ],
    [
      'WEBHOOK_SECRETS',
      { ...BASE, WEBHOOK_SECRETS: 'whsec_c2hvcnQtYnV0LWxvbmctZW5vdWdo' },
      /entry 1 decodes to 21 bytes; use at least 24 random bytes/,
    ],
    ['SNAPSHOT_ROLE', { ...BASE, SNAPSHOT_ROLE: 'role/with-slash' }, /not a RAM role name/],
    ['SNAPSHOT_ROLE', { ...BASE, SNAPSHOT_ROLE: 'r'.repeat(65) }, /not a RAM role name/],
    ['SNAPSHOT_INTERVAL', { ...BASE, SNAPSHOT_INTERVAL: '0' }, /whole number from 1 to 100, got "0"/],
    ['SNAPSHOT_INTERVAL', { ...BASE, SNAPSHOT_INTERVAL: '101' }, /whole number from 1 to 100/],
    ['SNAPSHOT_INTERVAL', { ...BASE, SNAPSHOT_INTERVAL: '2.5' }, /whole number from 1 to 100/],
    [
      'CLEANUP_CHANNEL_PREFIXES',
      { ...BASE, CLEANUP_CHANNEL_PREFIXES: 'cam-,cam/' },
      /"cam\/" is not a channel-name prefix/,
    ],
    ['CLEANUP_CHANNEL_PREFIXES', { ...BASE, CLEANUP_CHANNEL_PREFIXES: 'cam*' }, /not a channel-name prefix/],
  ])('rejects a bad %s', (variable, env, message) => {
    const err = errorOf(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('registers every secret with the logger, and never echoes a rejected one', () => {
    loadConfig({
      ...BASE,
      API_SECRETS: 'cfg-api-secret-AAAA-0123,cfg-api-secret-BBBB-0123',
      API_TOKEN: 'cfg-api-token-CCCC-0123',
      WEBHOOK_URL: 'https://user:cfg-url-password-DDDD@hooks.example.com/x?token=cfg-url-token-EEEE',
      WEBHOOK_SECRETS: 'whsec_Y2ZnLWhvb2stc2VjcmV0LUZGRkYtMDEyMzQ1Njc4OWFi',
    });
    for (const s of [
      'cfg-api-secret-AAAA-0123',
      'cfg-api-secret-BBBB-0123',
      'cfg-api-token-CCCC-0123',
      'cfg-url-password-DDDD',
      'cfg-url-token-EEEE',
      'whsec_Y2ZnLWhvb2stc2VjcmV0LUZGRkYtMDEyMzQ1Njc4OWFi',
    ]) {
      expect(scrubSecrets(`value ${s} here`)).toBe('value [REDACTED] here');
    }

    const err = errorOf({ ...BASE, WEBHOOK_SECRETS: 'cfg-shortGGG' });
    expect(err.variable).toBe('WEBHOOK_SECRETS');
    expect(err.message).toMatch(/entry 1 is shorter than 16/);
    expect(err.message).not.toContain('cfg-shortGGG');
    expect(scrubSecrets('cfg-shortGGG')).toBe('[REDACTED]');
  });

  it.each([
    ['', []],
    ['cam-', ['cam-']],
    ['cam-, lc_ ,', ['cam-', 'lc_']],
    ['*', ['']],
    ['cam-,*', ['cam-', '']],
  ])('reads CLEANUP_CHANNEL_PREFIXES %j as %j (* = every channel name)', (value, prefixes) => {
    expect(loadConfig({ ...BASE, CLEANUP_CHANNEL_PREFIXES: value }).cleanupChannelPrefixes).toEqual(prefixes);
  });

  it('treats blank variables as unset', () => {
    expect(loadConfig({ ...BASE, IDLE_AFTER: '  ', WEBHOOK_URL: '', DRY_RUN: '' })).toMatchObject({
      idleAfterSeconds: 1800,
      webhookUrl: undefined,
      dryRun: true,
    });
  });
});

describe('createOssClient', () => {
  it('uses FC context credentials when present, else the environment', async () => {
    const config = loadConfig({
      ...BASE,
      OSS_ENDPOINT: 'http://127.0.0.1:9',
      OSS_REGION: 'cn-hangzhou',
      OSS_PATH_STYLE: 'true',
    });
    const fromContext = createOssClient(config, {
      context: {
        credentials: { accessKeyId: 'ctx-id', accessKeySecret: 'ctx-secret-0123', securityToken: 'ctx-token-0123' },
      },
    });
    expect(fromContext.pathStyle).toBe(true);
    expect(fromContext.region).toBe('cn-hangzhou');
    // No credentials anywhere: the env provider names the variables it needs on first use.
    const fromEnv = createOssClient(config, { env: {} });
    await expect(fromEnv.bucket('livecycle-demo').headObject('x')).rejects.toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    await fromContext.close();
    await fromEnv.close();
  });
});
