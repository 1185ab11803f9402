/**
 * Typed configuration from environment variables. Every function calls `loadConfig()` once per
 * instance; a bad value fails fast with an error naming the variable (never echoing a secret).
 */
import { DEFAULT_LEDGER_PREFIX } from './ledger/keys';
import { parseBudgetCny, pricesFrom, type PriceTable } from './lifecycle/cost';
import { registerSecret, type Logger } from './log';
import { MAX_PUBLISH_URL_SECONDS, OssClient, envCredentials, fcContextCredentials, type FcContextLike } from './oss';
import { parseRtmpEndpoint } from './oss/endpoint';
import { webhookSecretKey } from './webhooks/signature';

export interface Config {
  /** OSS endpoint: `oss-cn-hangzhou-internal.aliyuncs.com` or `http://127.0.0.1:9000` (emulator). */
  readonly ossEndpoint: string;
  /** V4 signing region; undefined lets the client derive it from a standard endpoint. */
  readonly ossRegion: string | undefined;
  /** Path-style addressing (the emulator on an IP); virtual-hosted style otherwise. */
  readonly ossPathStyle: boolean;
  /** OSS_RTMP_ENDPOINT: `rtmp://host[:port]` origin of publish URLs (the local emulator's RTMP port); unset on OSS. */
  readonly ossRtmpEndpoint: string | undefined;
  /** Deadline of one OSS call, its retries and back-off included (the client's `timeoutMs`). */
  readonly ossTimeoutMs: number;
  /** Buckets whose LiveChannels this deployment manages; each holds its own ledger. */
  readonly buckets: readonly string[];
  /** Key prefix of the ledger inside each bucket, ending in `/`. */
  readonly ledgerPrefix: string;
  /** A channel with no push for this long is disabled. */
  readonly idleAfterSeconds: number;
  /** Pushes separated by less than this are one broadcast (encoder reconnects). */
  readonly reconnectWindowSeconds: number;
  /** Lifetime of signed RTMP publish URLs handed out by the API. */
  readonly publishUrlTtlSeconds: number;
  /** HMAC secrets accepted on API requests (several during rotation). */
  readonly apiSecrets: readonly string[];
  /** Bearer token accepted on API requests. */
  readonly apiToken: string | undefined;
  /** Where lifecycle events are POSTed; undefined disables outbound webhooks. */
  readonly webhookUrl: string | undefined;
  /** Webhook signing secrets, `whsec_<base64>` (Standard Webhooks): every one yields a signature (rotation). */
  readonly webhookSecrets: readonly string[];
  /** How long after a channel's deletion its leftover objects become orphans. */
  readonly orphanGraceSeconds: number;
  /** Days VOD output is kept; 0 keeps it forever. */
  readonly vodRetentionDays: number;
  /** Cleanup reports what it would delete without deleting. */
  readonly dryRun: boolean;
  /** Per-run cleanup budget: at most this many objects deleted. */
  readonly cleanupMaxObjects: number;
  /** Per-run cleanup budget: at most this many bytes deleted. */
  readonly cleanupMaxBytes: number;
  /** Parallel GetLiveChannelStat calls in one poll. */
  readonly pollConcurrency: number;
  /** Channels per poll shard (one invocation's worth). */
  readonly pollShardSize: number;
  /** Longest interval between two Stats of an idle channel (adaptive polling, shared/lifecycle/poll-schedule.ts). */
  readonly pollIdleMaxIntervalSeconds: number;
  /** FC function invoked asynchronously to build VOD playlists. */
  readonly generateVodFunction: string;
  /** MNS topic that carries snapshot notifications, if snapshots are configured. */
  readonly snapshotTopic: string | undefined;
  /** RAM role OSS assumes to write snapshot images and publish to the topic (Snapshot/RoleName). */
  readonly snapshotRoleName: string;
  /** Seconds between snapshots of channels created with snapshots (Snapshot/Interval). */
  readonly snapshotIntervalSeconds: number;
  /**
   * Channel-name prefixes whose folders cleanup treats as channels even without a ledger record
   * (channels created outside livecycle); `''` (configured as `*`) matches every name, `[]` none.
   */
  readonly cleanupChannelPrefixes: readonly string[];
  /** COST_PRICES over the published list prices (docs/cost.md). */
  readonly costPrices: PriceTable;
  /** COST_BUDGET_CNY: every channel's monthly budget unless the api sets its own; undefined: none. */
  readonly costBudgetCny: number | undefined;
  readonly logLevel: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value that cannot be used; `variable` names the environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** HMAC keys and bearer tokens shorter than this are guessable; refuse them at startup. */
const MIN_SECRET_LENGTH = 16;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** RAM role names: 1-64 letters, digits, `.` and `-`. */
const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;
/** What may start a channel name (the ledger's channel alphabet). */
const CHANNEL_PREFIX = /^[A-Za-z0-9._-]+$/;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(name, `must be a whole number ${range}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(value)}`);
}

function list(env: Env, name: string): string[] {
  return (raw(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Secrets are registered before validation so even a rejected one never reaches a log line. */
function secrets(env: Env, name: string): string[] {
  const values = list(env, name);
  values.forEach(registerSecret);
  values.forEach((value, i) => {
    if (value.length < MIN_SECRET_LENGTH)
      throw new ConfigError(name, `entry ${i + 1} is shorter than ${MIN_SECRET_LENGTH} characters`);
  });
  return values;
}

function endpoint(env: Env): string {
  const value = raw(env, 'OSS_ENDPOINT');
  if (value === undefined)
    throw new ConfigError(
      'OSS_ENDPOINT',
      'is required (e.g. oss-cn-hangzhou-internal.aliyuncs.com or http://127.0.0.1:9000)',
    );
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError('OSS_ENDPOINT', `is not a host name or URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('OSS_ENDPOINT', `must use http or https, got ${url.protocol}`);
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new ConfigError(
      'OSS_ENDPOINT',
      'must be a bare host (optionally scheme and port), without credentials, path or query',
    );
  }
  return value;
}

function rtmpEndpoint(env: Env): string | undefined {
  const value = raw(env, 'OSS_RTMP_ENDPOINT');
  if (value === undefined) return undefined;
  try {
    return parseRtmpEndpoint(value);
  } catch (err) {
    throw new ConfigError(
      'OSS_RTMP_ENDPOINT',
      `${(err as Error).message} (e.g. rtmp://127.0.0.1:1935), got ${JSON.stringify(value)}`,
    );
  }
}

function buckets(env: Env): string[] {
  const values = list(env, 'BUCKETS');
  if (values.length === 0) throw new ConfigError('BUCKETS', 'must list at least one bucket (comma-separated)');
  for (const b of values)
    if (!BUCKET_NAME.test(b)) throw new ConfigError('BUCKETS', `${JSON.stringify(b)} is not a valid OSS bucket name`);
  if (new Set(values).size !== values.length) throw new ConfigError('BUCKETS', 'lists a bucket twice');
  return values;
}

function ledgerPrefix(env: Env): string {
  const value = raw(env, 'LEDGER_PREFIX') ?? DEFAULT_LEDGER_PREFIX;
  // Short enough that every ledger key stays under OSS's 1023-byte limit (see shared/ledger/keys.ts).
  if (
    !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(value) ||
    value.length > 128 ||
    value.split('/').some((s) => s === '.' || s === '..')
  ) {
    throw new ConfigError(
      'LEDGER_PREFIX',
      `must be 1-128 characters of [A-Za-z0-9._-] path segments ending in "/", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function snapshotRoleName(env: Env): string {
  const value = raw(env, 'SNAPSHOT_ROLE') ?? 'AliyunOSSLiveChannelSnapshotRole';
  if (!ROLE_NAME.test(value))
    throw new ConfigError('SNAPSHOT_ROLE', `is not a RAM role name (1-64 of [A-Za-z0-9.-]): ${JSON.stringify(value)}`);
  return value;
}

/** Whole minutes, since poll-stat ticks once a minute. */
function pollIdleMaxInterval(env: Env): number {
  const seconds = integer(env, 'POLL_IDLE_MAX_INTERVAL', 300, 60, 3600);
  if (seconds % 60 !== 0)
    throw new ConfigError('POLL_IDLE_MAX_INTERVAL', `must be whole minutes (a multiple of 60 seconds), got ${seconds}`);
  return seconds;
}

/** `*` stands for every channel name and becomes the prefix `''`. */
function cleanupChannelPrefixes(env: Env): string[] {
  const items = list(env, 'CLEANUP_CHANNEL_PREFIXES');
  for (const item of items) {
    if (item !== '*' && !CHANNEL_PREFIX.test(item))
      throw new ConfigError(
        'CLEANUP_CHANNEL_PREFIXES',
        `${JSON.stringify(item)} is not a channel-name prefix ([A-Za-z0-9._-], or *)`,
      );
  }
  return items.map((p) => (p === '*' ? '' : p));
}

function webhookUrl(env: Env): string | undefined {
  const value = raw(env, 'WEBHOOK_URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    registerSecret(value);
    throw new ConfigError('WEBHOOK_URL', 'is not a valid URL');
  }
  // Receivers often put a token in the URL itself; keep it out of logs.
  registerSecret(url.password ? decodeURIComponent(url.password) : undefined);
  for (const v of url.searchParams.values()) registerSecret(v);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('WEBHOOK_URL', `must use http or https, got ${url.protocol}`);
  return value;
}

/** Cost settings (docs/cost.md): the price table and the default monthly budget per channel. */
function cost(env: Env): { costPrices: PriceTable; costBudgetCny: number | undefined } {
  const parse = <T>(name: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new ConfigError(name, (err as Error).message);
    }
  };
  const budget = raw(env, 'COST_BUDGET_CNY');
  const costBudgetCny = budget === undefined ? undefined : parse('COST_BUDGET_CNY', () => parseBudgetCny(budget));
  return {
    costPrices: parse('COST_PRICES', () => pricesFrom(raw(env, 'COST_PRICES'))),
    costBudgetCny: costBudgetCny === 0 ? undefined : costBudgetCny,
  };
}

/** Reads, validates and freezes the configuration. Registers every secret with the logger. */
export function loadConfig(env: Env = process.env): Config {
  const apiSecrets = secrets(env, 'API_SECRETS');
  const apiToken = raw(env, 'API_TOKEN');
  registerSecret(apiToken);
  if (apiToken !== undefined && apiToken.length < MIN_SECRET_LENGTH)
    throw new ConfigError('API_TOKEN', `is shorter than ${MIN_SECRET_LENGTH} characters`);
  const webhookSecrets = secrets(env, 'WEBHOOK_SECRETS');
  webhookSecrets.forEach((value, i) => {
    try {
      webhookSecretKey(value);
    } catch (err) {
      throw new ConfigError('WEBHOOK_SECRETS', `entry ${i + 1} ${(err as Error).message}`);
    }
  });
  const url = webhookUrl(env);
  if (url && webhookSecrets.length === 0)
    throw new ConfigError('WEBHOOK_SECRETS', 'is required when WEBHOOK_URL is set (webhooks are always signed)');

  const logLevel = (raw(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const generateVodFunction = raw(env, 'GENERATE_VOD_FUNCTION') ?? 'generate-vod';
  if (!FUNCTION_NAME.test(generateVodFunction))
    throw new ConfigError(
      'GENERATE_VOD_FUNCTION',
      `is not a valid function name: ${JSON.stringify(generateVodFunction)}`,
    );

  return Object.freeze({
    ossEndpoint: endpoint(env),
    ossRegion: raw(env, 'OSS_REGION'),
    ossPathStyle: boolean(env, 'OSS_PATH_STYLE', false),
    ossRtmpEndpoint: rtmpEndpoint(env),
    ossTimeoutMs: integer(env, 'OSS_TIMEOUT_MS', 30_000, 1),
    buckets: Object.freeze(buckets(env)),
    ledgerPrefix: ledgerPrefix(env),
    idleAfterSeconds: integer(env, 'IDLE_AFTER', 1800, 1),
    reconnectWindowSeconds: integer(env, 'RECONNECT_WINDOW', 60, 0),
    // Checked here, not when the api first signs one: a channel would be created, then a 400.
    publishUrlTtlSeconds: integer(env, 'PUBLISH_URL_TTL', 3600, 1, MAX_PUBLISH_URL_SECONDS),
    apiSecrets: Object.freeze(apiSecrets),
    apiToken,
    webhookUrl: url,
    webhookSecrets: Object.freeze(webhookSecrets),
    orphanGraceSeconds: integer(env, 'ORPHAN_GRACE', 86400, 0),
    vodRetentionDays: integer(env, 'VOD_RETENTION_DAYS', 0, 0),
    dryRun: boolean(env, 'DRY_RUN', true),
    cleanupMaxObjects: integer(env, 'CLEANUP_MAX_OBJECTS', 10_000, 1),
    cleanupMaxBytes: integer(env, 'CLEANUP_MAX_BYTES', 10 * 1024 ** 3, 1),
    pollConcurrency: integer(env, 'POLL_CONCURRENCY', 8, 1),
    pollShardSize: integer(env, 'POLL_SHARD_SIZE', 1000, 1),
    pollIdleMaxIntervalSeconds: pollIdleMaxInterval(env),
    generateVodFunction,
    snapshotTopic: raw(env, 'SNAPSHOT_TOPIC'),
    snapshotRoleName: snapshotRoleName(env),
    // OSS accepts Snapshot/Interval from 1 to 100 seconds.
    snapshotIntervalSeconds: integer(env, 'SNAPSHOT_INTERVAL', 10, 1, 100),
    cleanupChannelPrefixes: Object.freeze(cleanupChannelPrefixes(env)),
    ...cost(env),
    logLevel,
  });
}

/**
 * The OSS client for this configuration. Credentials come from FC's `context.credentials` (the
 * function role's STS keys; pass the invocation context, they rotate) when present, else from
 * the environment (`ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`/`ALIBABA_CLOUD_SECURITY_TOKEN`, or
 * `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET`).
 */
export function createOssClient(
  config: Config,
  opts: { context?: FcContextLike; env?: Env; logger?: Logger } = {},
): OssClient {
  const credentials = opts.context?.credentials?.accessKeyId
    ? fcContextCredentials(opts.context)
    : envCredentials(opts.env ?? process.env);
  return new OssClient({
    endpoint: config.ossEndpoint,
    region: config.ossRegion,
    pathStyle: config.ossPathStyle,
    rtmpEndpoint: config.ossRtmpEndpoint,
    timeoutMs: config.ossTimeoutMs,
    credentials,
    logger: opts.logger,
  });
}
