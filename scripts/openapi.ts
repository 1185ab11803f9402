/**
 * Generates openapi.json (OpenAPI 3.1) from the schemas the api validates with (the route specs
 * in shared/api/routes.ts, whose validators are valibot schemas) and the webhook event types.
 * `npm run openapi` writes it; test/api/openapi.test.ts fails when the committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJsonSchema } from '@valibot/to-json-schema';
import { TIMESTAMP_HEADER, SIGNATURE_HEADER } from '../shared/api/auth';
import type * as v from 'valibot';
import { ERROR_CODES } from '../shared/api/error-codes';
import * as RESPONSES from '../shared/api/responses';
import {
  apiRouteSpecs,
  pathParameter,
  type ResponseName,
  type RouteSpec,
  type SuccessBody,
} from '../shared/api/routes';
import type { Validator } from '../shared/api/validate';
import { EVENT_TYPES } from '../shared/ledger/records';
import { DEFAULT_PRICES } from '../shared/lifecycle/cost';
import { EVENT_DATA_EXAMPLES, eventSchemas } from '../shared/webhooks/events';
import {
  EVENT_TYPE_HEADER,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../shared/webhooks/signature';

type Json = Record<string, unknown>;

export const OPENAPI_FILE = join(__dirname, '..', 'openapi.json');

/**
 * The statuses every route may answer with the error shape: those of the error codes, but 405,
 * which answers a method the path does not have (no operation of the path).
 */
const ERROR_STATUSES = [...new Set(Object.values(ERROR_CODES).map(([status]) => String(status)))]
  .filter((status) => status !== '405')
  .sort();

/** The error codes as the Markdown table docs/api.md shows (written there by `npm run openapi`). */
export function errorCodesTable(): string {
  const rows = Object.entries(ERROR_CODES)
    .sort(([, [a]], [, [b]]) => a - b)
    .map(([code, [status, meaning]]) => `| ${status} | \`${code}\` | ${meaning} |`);
  return ['| status | code | when |', '|---|---|---|', ...rows].join('\n');
}

const DOCS_FILE = join(__dirname, '..', 'docs', 'api.md');
const TABLE_START = '<!-- error codes: written by npm run openapi from shared/api/error-codes.ts -->';
const TABLE_END = '<!-- end of error codes -->';

/** docs/api.md with its error-code table (between the markers) as generated. */
export function docsWithErrorCodes(docs = readFileSync(DOCS_FILE, 'utf8')): string {
  const start = docs.indexOf(TABLE_START);
  const end = docs.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`docs/api.md lacks the error-code markers ${TABLE_START} … ${TABLE_END}`);
  return `${docs.slice(0, start + TABLE_START.length)}\n${errorCodesTable()}\n${docs.slice(end)}`;
}

/** Request examples, one per route that takes a body or query. */
const EXAMPLES: Record<string, Json> = {
  'POST /channels': { name: 'cam-1', description: 'lobby camera', fragDuration: 2, fragCount: 3, snapshot: true },
  'POST /channels/{name}/publish-url': { expiresInSeconds: 600 },
  'POST /channels/{name}/disable': { force: false },
  'POST /channels/{name}/vod': { start: '2024-05-01T12:00:00Z', end: 1714568400000 },
  'POST /channels/{name}/vods/{key}/hold': { reason: 'legal hold for case 42' },
  'GET /channels': { limit: '50' },
  'DELETE /channels/{name}': { force: 'false' },
  'GET /cost': { limit: '50' },
  'PUT /channels/{name}/budget': { cnyPerMonth: 25 },
};

const AT = '2024-05-01T12:00:00.000Z';
const PUBLISH_URL =
  'rtmp://my-live-bucket.oss-cn-hangzhou.aliyuncs.com/live/cam-1?Expires=1714565400&OSSAccessKeyId=LTAI5t…&Signature=…&playlistName=playlist.m3u8';
const PLAY_URL = 'https://my-live-bucket.oss-cn-hangzhou.aliyuncs.com/cam-1/playlist.m3u8';
const CONFIG = {
  description: 'lobby camera',
  fragDuration: 2,
  fragCount: 3,
  playlistName: 'playlist.m3u8',
  snapshot: true,
};

const NO_CNY = { storage: 0, requests: 0, compute: 0, total: 0 };
const CHANNEL_COST: SuccessBody<'CHANNEL_COST_REPORT'>['channel'] = {
  name: 'cam-1',
  objects: 1442,
  bytes: 1_512_046_592,
  storage: {
    liveFragments: { objects: 360, bytes: 377_487_360 },
    vodFragments: { objects: 1080, bytes: 1_134_559_232 },
    playlists: { objects: 2, bytes: 0 },
    snapshots: { objects: 0, bytes: 0 },
    other: { objects: 0, bytes: 0 },
  },
  listedAt: '2024-05-15T03:00:12.000Z',
  requestsPerMonth: 12_480,
  requests: { month: '2024-05', get: 5_800, put: 240, total: 6_040, byOperation: { GetLiveChannelStat: 5_600 } },
  compute: { invocations: 2_900, gbSeconds: 95.4 },
  cnyPerMonth: { storage: 0.169, requests: 0.0125, compute: 0.0223, overheadShare: 0.001, total: 0.2048 },
  cnyThisMonth: { storage: 0.081, requests: 0.006, compute: 0.0108, total: 0.0978 },
  budget: { cnyPerMonth: 25, source: 'channel', used: 0.0039, level: null },
};
const COST_HEAD = {
  bucket: 'my-live-bucket',
  month: '2024-05',
  generatedAt: '2024-05-15T12:00:00.000Z',
  monthElapsed: 0.468,
  prices: DEFAULT_PRICES,
  overhead: { requestsPerMonth: 3_100, cnyPerMonth: { ...NO_CNY, requests: 0.0031, total: 0.0031 } },
  totals: { channels: 12, objects: 17_304, bytes: 18_144_559_104, cnyPerMonth: 2.46 },
};

/** A success body per response schema, type-checked against it (and against the document by test/api/openapi.test.ts). */
const RESPONSE_EXAMPLES: { [N in ResponseName]: SuccessBody<N> } = {
  CHANNEL_CREATED: {
    name: 'cam-1',
    bucket: 'my-live-bucket',
    generation: 1714564800000,
    status: 'enabled',
    publishUrl: PUBLISH_URL,
    expiresAt: '2024-05-01T13:00:00.000Z',
    playUrl: PLAY_URL,
    config: CONFIG,
  },
  CHANNEL_LIST: {
    channels: [{ name: 'cam-1', description: 'lobby camera', status: 'enabled', lastModified: AT, playUrl: PLAY_URL }],
    nextCursor: null,
  },
  CHANNEL: {
    name: 'cam-1',
    bucket: 'my-live-bucket',
    generation: 1714564800000,
    config: { ...CONFIG, status: 'enabled' },
    live: { status: 'Live', connectedAt: AT, remoteAddr: '203.0.113.7:51234' },
    broadcasts: [{ id: '20240501T120000Z', startedAt: AT, endedAt: null, pushes: 1, state: 'open' }],
    vods: [
      {
        broadcastId: '20240430T090000Z',
        status: 'ready',
        playlist: 'cam-1/vod-20240430T090000Z.m3u8',
        recordedAt: '2024-04-30T10:05:00.000Z',
      },
    ],
    latestSnapshot: { at: '2024-05-01T12:00:10.000Z', object: 'cam-1/1714564810.jpg' },
    holds: [{ key: 'vod-20240430T090000Z.m3u8', reason: 'legal hold for case 42', until: null }],
  },
  PUBLISH_URL: { name: 'cam-1', publishUrl: PUBLISH_URL, expiresAt: '2024-05-01T12:10:00.000Z' },
  CHANNEL_ENABLED: { name: 'cam-1', status: 'enabled' },
  CHANNEL_DISABLED: { name: 'cam-1', status: 'disabled', publisherDropped: false },
  CHANNEL_DELETED: { name: 'cam-1', deleted: true, generation: 1714564800000, deletedAt: '2024-05-02T08:00:00.000Z' },
  VOD_CREATED: {
    name: 'cam-1',
    broadcastId: '20240501T120000Z',
    status: 'ready',
    playlist: 'cam-1/vod-20240501T120000Z.m3u8',
    parts: [{ key: 'cam-1/vod-20240501T120000Z.m3u8', startTime: 1714564800, endTime: 1714568400 }],
  },
  VOD_HELD: {
    name: 'cam-1',
    key: 'vod-20240501T120000Z.m3u8',
    held: true,
    reason: 'legal hold for case 42',
    setAt: AT,
  },
  VOD_RELEASED: { name: 'cam-1', key: 'vod-20240501T120000Z.m3u8', held: false },
  CLEANUP_REPORT: {
    report: {
      runId: 'run-20240502T030000Z',
      startedAt: 1714618800000,
      finishedAt: 1714618812000,
      dryRun: false,
      bucket: 'my-live-bucket',
      status: 'complete',
      settings: {
        graceSeconds: 86400,
        retentionDays: 30,
        maxObjects: 10000,
        maxBytes: 10737418240,
        channelPrefixes: [],
      },
      totals: {
        candidates: 12,
        deleted: 12,
        bytes: 7340032,
        expiredPlaylists: 0,
        kept: { live: 3 },
        deleteErrors: 0,
        foldersOutOfScope: 1,
        folderErrors: 0,
      },
      keys: { listed: ['old-cam/1714000000.ts'], count: 12, truncated: true },
      channels: [
        {
          channel: 'old-cam',
          state: 'deleted',
          candidates: 12,
          deleted: 12,
          bytes: 7340032,
          expiredPlaylists: 0,
          kept: {},
          unreadablePlaylists: [],
        },
      ],
      channelsOmitted: 0,
      errors: [],
      folderErrors: [],
      foldersOutOfScope: ['_livecycle/'],
    },
  },
  COST_REPORT: { ...COST_HEAD, channels: [CHANNEL_COST], nextCursor: null },
  CHANNEL_COST_REPORT: { ...COST_HEAD, channel: CHANNEL_COST },
  BUDGET_SET: { name: 'cam-1', cnyPerMonth: 25, setAt: AT, by: 'api:req-7f3a' },
  DRIFT_REPORT: {
    bucket: 'my-live-bucket',
    checkedAt: AT,
    counts: { ossChannels: 12, ledgerChannels: 12, folders: 14 },
    items: [
      {
        id: 'untracked-channel:cam-9',
        kind: 'untracked-channel',
        channel: 'cam-9',
        detail: 'OSS has the channel; the ledger never recorded it',
        action: 'adopt',
        fixable: true,
      },
      {
        id: 'foreign-prefix:backups/',
        kind: 'foreign-prefix',
        prefix: 'backups/',
        detail: 'objects under a folder no channel of livecycle wrote',
        action: 'leave',
        fixable: false,
      },
    ],
  },
};

/**
 * The field's JSON Schema; checks JSON Schema cannot say (byte lengths, calendar dates) are left to the description in
 * docs/api.md.
 */
function schemaOf(validator: Validator<unknown>): Json {
  return jsonSchema(validator.schema, 'input');
}

/**
 * A valibot schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect): of what a request may send
 * (`input`) or what a response or event holds (`output`).
 */
function jsonSchema(schema: v.GenericSchema, typeMode: 'input' | 'output'): Json {
  const { $schema: _dialect, ...json } = toJsonSchema(schema, {
    errorMode: 'ignore',
    target: 'draft-2020-12',
    typeMode,
  }) as Json;
  return json;
}

function objectSchema(fields: RouteSpec['body'], required: readonly string[] = []): Json {
  const properties = Object.fromEntries(Object.entries(fields ?? {}).map(([name, v]) => [name, schemaOf(v)]));
  return {
    type: 'object',
    properties,
    ...(required.length ? { required: [...required] } : {}),
    additionalProperties: false,
  };
}

function operation(spec: RouteSpec): Json {
  const key = `${spec.method} ${spec.pattern}`;
  const pathParams = [...spec.pattern.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    schema: schemaOf(pathParameter(name!)!),
  }));
  const queryParams = Object.entries(spec.query ?? {}).map(([name, v]) => ({
    name,
    in: 'query',
    required: false,
    schema: schemaOf(v),
    ...(EXAMPLES[key]?.[name] !== undefined ? { example: EXAMPLES[key]![name] } : {}),
  }));
  if (!spec.response) throw new Error(`${key}: the route declares no response schema`);
  const responses: Json = {
    [String(spec.status)]: {
      description: spec.summary,
      content: {
        'application/json': {
          schema: jsonSchema(RESPONSES[spec.response], 'output'),
          example: RESPONSE_EXAMPLES[spec.response],
        },
      },
    },
  };
  for (const status of ERROR_STATUSES) responses[status] = { $ref: '#/components/responses/Error' };
  return {
    operationId: `${spec.method.toLowerCase()}${spec.pattern.replace(/\{(\w+)\}/g, 'By-$1').replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: spec.summary,
    ...(pathParams.length || queryParams.length ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: Boolean(spec.required?.length),
            content: {
              'application/json': {
                schema: objectSchema(spec.body, spec.required),
                ...(EXAMPLES[key] ? { example: EXAMPLES[key] } : {}),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

function webhook(type: (typeof EVENT_TYPES)[number], schema: v.GenericSchema): Json {
  const header = (name: string, description: string, example: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
    example,
  });
  return {
    post: {
      operationId: `event-${type}`,
      summary: `${type} event (Standard Webhooks signed)`,
      parameters: [
        header(
          WEBHOOK_ID_HEADER,
          'The event id; deliveries are at-least-once, dedupe by it.',
          'evt_0123456789abcdef0123456789abcdef',
        ),
        header(WEBHOOK_TIMESTAMP_HEADER, 'Unix seconds of the attempt.', '1714564800'),
        header(
          WEBHOOK_SIGNATURE_HEADER,
          'Space-separated v1,<base64 HMAC-SHA256> signatures over `id.timestamp.body`, one per secret.',
          'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
        ),
        header(EVENT_TYPE_HEADER, 'The event type (not part of Standard Webhooks).', type),
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: jsonSchema(schema, 'output'),
            example: {
              id: 'evt_0123456789abcdef0123456789abcdef',
              type,
              channel: type === 'cleanup.completed' ? null : 'cam-1',
              bucket: 'my-live-bucket',
              sequence: 1,
              occurredAt: '2024-05-01T12:00:00.000Z',
              data: EVENT_DATA_EXAMPLES[type],
            },
          },
        },
      },
      responses: {
        '2XX': { description: 'Received; any other status is retried (408, 429, 5xx) or dropped (other 4xx).' },
      },
    },
  };
}

export function buildOpenApi(): Json {
  const paths: Record<string, Json> = {};
  for (const spec of apiRouteSpecs()) (paths[spec.pattern] ??= {})[spec.method.toLowerCase()] = operation(spec);
  return {
    openapi: '3.1.0',
    info: {
      title: 'livecycle',
      // The one version there is (docs/api.md, "Versioning").
      version: (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version,
      description:
        'Lifecycle of Alibaba Cloud OSS LiveChannels. The human guide is docs/api.md; this document is generated from the schemas the api validates with (npm run openapi).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [
      {
        url: 'https://{host}',
        variables: { host: { default: 'livecycle.example.com', description: "your api function's HTTP trigger" } },
      },
    ],
    security: [{ bearer: [] }, { signature: [], signatureTimestamp: [] }],
    paths,
    webhooks: Object.fromEntries(
      Object.entries(eventSchemas()).map(([type, schema]) => [
        type,
        webhook(type as (typeof EVENT_TYPES)[number], schema),
      ]),
    ),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN.' },
        signature: {
          type: 'apiKey',
          in: 'header',
          name: SIGNATURE_HEADER,
          description: `v1=<64 hex digits of HMAC-SHA256(secret, stringToSign)> with a secret from API_SECRETS, sent with ${TIMESTAMP_HEADER}; stringToSign is in docs/api.md (request signature).`,
        },
        signatureTimestamp: {
          type: 'apiKey',
          in: 'header',
          name: TIMESTAMP_HEADER,
          description: 'Unix seconds the signature was made at; part of stringToSign.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: {
                  type: 'string',
                  enum: Object.keys(ERROR_CODES),
                  description: `Stable machine-readable code: ${Object.entries(ERROR_CODES)
                    .map(([code, [status, meaning]]) => `${code} (${status}): ${meaning}`)
                    .join('; ')}.`,
                },
                message: { type: 'string', description: 'Human-readable; may change.' },
                field: { type: 'string', description: 'The body field, query or path parameter or header at fault.' },
                requestId: { type: 'string', description: 'On 500: look it up in the log.' },
              },
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
      },
      responses: {
        Error: {
          description: 'An error with a stable code.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/Error' },
              example: { error: { code: 'missing_field', message: 'start is required', field: 'start' } },
            },
          },
        },
      },
    },
  };
}

export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
  writeFileSync(DOCS_FILE, docsWithErrorCodes());
  console.log(`wrote ${OPENAPI_FILE} and the error codes in ${DOCS_FILE}`);
}
