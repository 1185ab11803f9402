/**
 * Typed configuration from environment variables, declared once as a valibot schema
 * (`ENVIRONMENT`): the `Config` type is inferred from it, and a bad value fails fast with an error
 * naming the variable (never echoing a secret). Every function calls `loadConfig()` once per instance.
 */
import * as v from 'valibot';
import { DEFAULT_LEDGER_PREFIX } from './ledger/keys';
import { parseBudgetCny, pricesFrom } from './lifecycle/cost';
import { registerSecret, type Logger } from './log';
import { MAX_PUBLISH_URL_SECONDS, OssClient, envCredentials, fcContextCredentials, type FcContextLike } from './oss';
import { parseRtmpEndpoint } from './oss/endpoint';
import { webhookSecretKey } from './webhooks/signature';

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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** HMAC keys and bearer tokens shorter than this are guessable; refuse them at startup. */
const MIN_SECRET_LENGTH = 16;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** RAM role names: 1-64 letters, digits, `.` and `-`. */
const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;
/** What may start a channel name (the ledger's channel alphabet); `*` stands for every name. */
const CHANNEL_PREFIX = /^(\*|[A-Za-z0-9._-]+)$/;
/** 1-128 characters of path segments ending in `/`: every ledger key stays under OSS's 1023-byte limit. */
const LEDGER_PREFIX = /^(?!.{129})(?!(.*\/)?\.\.?\/)[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/;
const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

const quoted = (issue: { input: unknown }) => JSON.stringify(issue.input);
const quotedEntry = (entry: string) => JSON.stringify(entry);

/** An unset variable reads as undefined (blank counts as unset: the loader trims). */
const text = v.optional(v.string());

function wholeNumber(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  const rule = (issue: { input: unknown }) =>
    `must be a whole number ${range}, got ${JSON.stringify(String(issue.input))}`;
  return v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, rule),
    v.check((value) => Number.isSafeInteger(Number(value)), rule),
    v.transform(Number),
    v.minValue(min, rule),
    v.maxValue(max, rule),
  );
}

function boolean(fallback: boolean) {
  return v.pipe(
    v.optional(v.string(), String(fallback)),
    v.toLowerCase(),
    v.picklist([...TRUE, ...FALSE], (issue) => `must be true or false, got ${quoted(issue)}`),
    v.transform((value) => TRUE.includes(value)),
  );
}

/** A comma-separated list; blank entries are dropped. */
const list = v.pipe(
  v.optional(v.string(), ''),
  v.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);

/** Checks every entry of a list, naming the first bad one (by position unless `label` says otherwise). */
function eachEntry(
  reason: (entry: string) => string | undefined,
  label: (entry: string, index: number) => string = (_, i) => `entry ${i + 1}`,
) {
  return v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const [i, entry] of dataset.value.entries()) {
      const why = reason(entry);
      if (why !== undefined) return addIssue({ message: `${label(entry, i)} ${why}` });
    }
  });
}

const secretTooShort = (value: string) =>
  value.length < MIN_SECRET_LENGTH ? `is shorter than ${MIN_SECRET_LENGTH} characters` : undefined;

/** Secrets are registered with the logger before they are checked, so even a rejected one never reaches a log line. */
const secretList = v.pipe(
  list,
  v.transform((values) => (values.forEach(registerSecret), values)),
  eachEntry(secretTooShort),
);

function ossEndpoint(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(value) ? value : `https://${value}`);
  } catch {
    return `is not a host name or URL: ${JSON.stringify(value)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, got ${url.protocol}`;
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search)
    return 'must be a bare host (optionally scheme and port), without credentials, path or query';
  return undefined;
}

/** Receivers often put a token in the URL itself: its password and query values are registered as secrets. */
function webhookUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    registerSecret(value);
    return 'is not a valid URL';
  }
  registerSecret(url.password ? decodeURIComponent(url.password) : undefined);
  for (const param of url.searchParams.values()) registerSecret(param);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, got ${url.protocol}`;
  return undefined;
}

/** A check written as a function returning why the value is bad (undefined when good). */
function reason<T>(why: (value: T) => string | undefined) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    const message = dataset.typed ? why(dataset.value) : undefined;
    if (message !== undefined) addIssue({ message });
  });
}

/** A variable read by a parser that throws an Error saying what is wrong (`hint` adds to its message). */
function parsedBy<T>(parse: (value: string | undefined) => T, hint: (value: string | undefined) => string = () => '') {
  return v.pipe(
    text,
    v.rawTransform<string | undefined, T>(({ dataset, addIssue, NEVER }) => {
      try {
        return parse(dataset.value);
      } catch (err) {
        addIssue({ message: `${(err as Error).message}${hint(dataset.value)}` });
        return NEVER;
      }
    }),
  );
}

/** One environment variable: its name, and the schema its (trimmed) string value is read with. */
function variable<const TName extends string, TSchema extends v.GenericSchema<string | undefined, unknown>>(
  name: TName,
  schema: TSchema,
) {
  return { name, schema };
}

/**
 * The functions' environment, keyed by `Config` field. Secrets come first so they are registered
 * with the logger even when a later variable is the one refused.
 */
const VARIABLES = {
  apiSecrets: variable('API_SECRETS', secretList),
  apiToken: variable(
    'API_TOKEN',
    v.pipe(
      text,
      v.transform((value) => (registerSecret(value), value)),
      v.check(
        (value) => value === undefined || !secretTooShort(value),
        `is shorter than ${MIN_SECRET_LENGTH} characters`,
      ),
    ),
  ),
  webhookSecrets: variable(
    'WEBHOOK_SECRETS',
    v.pipe(
      secretList,
      eachEntry((value) => {
        try {
          webhookSecretKey(value);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      }),
    ),
  ),
  webhookUrl: variable(
    'WEBHOOK_URL',
    v.pipe(
      text,
      reason((value) => (value === undefined ? undefined : webhookUrl(value))),
    ),
  ),
  ossEndpoint: variable(
    'OSS_ENDPOINT',
    v.pipe(
      v.string('is required (e.g. oss-cn-hangzhou-internal.aliyuncs.com or http://127.0.0.1:9000)'),
      reason(ossEndpoint),
    ),
  ),
  ossRegion: variable('OSS_REGION', text),
  ossPathStyle: variable('OSS_PATH_STYLE', boolean(false)),
  ossRtmpEndpoint: variable(
    'OSS_RTMP_ENDPOINT',
    parsedBy(
      (value) => (value === undefined ? undefined : parseRtmpEndpoint(value)),
      (value) => ` (e.g. rtmp://127.0.0.1:1935), got ${JSON.stringify(value)}`,
    ),
  ),
  ossTimeoutMs: variable('OSS_TIMEOUT_MS', wholeNumber(30_000, 1)),
  buckets: variable(
    'BUCKETS',
    v.pipe(
      list,
      v.minLength(1, 'must list at least one bucket (comma-separated)'),
      eachEntry((b) => (BUCKET_NAME.test(b) ? undefined : 'is not a valid OSS bucket name'), quotedEntry),
      v.check((values) => new Set(values).size === values.length, 'lists a bucket twice'),
    ),
  ),
  ledgerPrefix: variable(
    'LEDGER_PREFIX',
    v.pipe(
      v.optional(v.string(), DEFAULT_LEDGER_PREFIX),
      v.regex(
        LEDGER_PREFIX,
        (issue) => `must be 1-128 characters of [A-Za-z0-9._-] path segments ending in "/", got ${quoted(issue)}`,
      ),
    ),
  ),
  idleAfterSeconds: variable('IDLE_AFTER', wholeNumber(1800, 1)),
  reconnectWindowSeconds: variable('RECONNECT_WINDOW', wholeNumber(60, 0)),
  // Checked here, not when the api first signs one: a channel would be created, then a 400.
  publishUrlTtlSeconds: variable('PUBLISH_URL_TTL', wholeNumber(3600, 1, MAX_PUBLISH_URL_SECONDS)),
  orphanGraceSeconds: variable('ORPHAN_GRACE', wholeNumber(86400, 0)),
  vodRetentionDays: variable('VOD_RETENTION_DAYS', wholeNumber(0, 0)),
  dryRun: variable('DRY_RUN', boolean(true)),
  cleanupMaxObjects: variable('CLEANUP_MAX_OBJECTS', wholeNumber(10_000, 1)),
  cleanupMaxBytes: variable('CLEANUP_MAX_BYTES', wholeNumber(10 * 1024 ** 3, 1)),
  pollConcurrency: variable('POLL_CONCURRENCY', wholeNumber(8, 1)),
  pollShardSize: variable('POLL_SHARD_SIZE', wholeNumber(1000, 1)),
  pollIdleMaxIntervalSeconds: variable(
    'POLL_IDLE_MAX_INTERVAL',
    v.pipe(
      wholeNumber(300, 60, 3600),
      // Whole minutes, since poll-stat ticks once a minute.
      v.multipleOf(60, (issue) => `must be whole minutes (a multiple of 60 seconds), got ${quoted(issue)}`),
    ),
  ),
  generateVodFunction: variable(
    'GENERATE_VOD_FUNCTION',
    v.pipe(
      v.optional(v.string(), 'generate-vod'),
      v.regex(FUNCTION_NAME, (issue) => `is not a valid function name: ${quoted(issue)}`),
    ),
  ),
  snapshotTopic: variable('SNAPSHOT_TOPIC', text),
  snapshotRoleName: variable(
    'SNAPSHOT_ROLE',
    v.pipe(
      v.optional(v.string(), 'AliyunOSSLiveChannelSnapshotRole'),
      v.regex(ROLE_NAME, (issue) => `is not a RAM role name (1-64 of [A-Za-z0-9.-]): ${quoted(issue)}`),
    ),
  ),
  // OSS accepts Snapshot/Interval from 1 to 100 seconds.
  snapshotIntervalSeconds: variable('SNAPSHOT_INTERVAL', wholeNumber(10, 1, 100)),
  cleanupChannelPrefixes: variable(
    'CLEANUP_CHANNEL_PREFIXES',
    v.pipe(
      list,
      eachEntry(
        (p) => (CHANNEL_PREFIX.test(p) ? undefined : 'is not a channel-name prefix ([A-Za-z0-9._-], or *)'),
        quotedEntry,
      ),
      v.transform((items) => items.map((p) => (p === '*' ? '' : p))),
    ),
  ),
  // docs/cost.md: the price table over the published list prices, and every channel's monthly
  // budget unless the api sets its own (0 or unset: none).
  costPrices: variable('COST_PRICES', parsedBy(pricesFrom)),
  costBudgetCny: variable(
    'COST_BUDGET_CNY',
    parsedBy((value) => (value === undefined ? undefined : parseBudgetCny(value) || undefined)),
  ),
  logLevel: variable(
    'LOG_LEVEL',
    v.pipe(
      v.optional(v.string(), 'info'),
      v.toLowerCase(),
      v.picklist(LOG_LEVELS, (issue) => `must be one of ${LOG_LEVELS.join(', ')}, got ${quoted(issue)}`),
    ),
  ),
};

type Variables = typeof VARIABLES;
type Entries = { [K in keyof Variables]: Variables[K]['schema'] };

/** The environment as one valibot object schema (keyed by `Config` field), with its cross-variable rule. */
export const ENVIRONMENT = v.pipe(
  v.object(Object.fromEntries(Object.entries(VARIABLES).map(([key, { schema }]) => [key, schema])) as Entries),
  v.forward(
    v.check(
      (config) => config.webhookUrl === undefined || config.webhookSecrets.length > 0,
      'is required when WEBHOOK_URL is set (webhooks are always signed)',
    ),
    ['webhookSecrets'],
  ),
);

/** The configuration every function reads, inferred from `ENVIRONMENT`. */
export type Config = { readonly [K in keyof Variables]: ReadonlyList<v.InferOutput<Variables[K]['schema']>> };
type ReadonlyList<T> = T extends (infer Item)[] ? readonly Item[] : T;

/** The environment variable each `Config` field is read from. */
export function variableOf(field: keyof Config): string {
  return VARIABLES[field].name;
}

/** Every variable the configuration reads. */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.values(VARIABLES).map(({ name }) => name);

/** Reads, validates and freezes the configuration. Registers every secret with the logger. */
export function loadConfig(env: Env = process.env): Config {
  const input = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, { name }]) => [key, env[name]?.trim() || undefined]),
  );
  const result = v.safeParse(ENVIRONMENT, input, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const field = issue.path?.[0]?.key as keyof Config;
    throw new ConfigError(variableOf(field), issue.message);
  }
  for (const value of Object.values(result.output)) if (Array.isArray(value)) Object.freeze(value);
  // The object schema makes unset variables' keys optional; every key is present in `input`.
  return Object.freeze(result.output) as Config;
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
