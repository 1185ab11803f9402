/**
 * Generates openapi.json (OpenAPI 3.1) from the schemas the api validates with (the route specs
 * in shared/api/routes.ts, whose validators are valibot schemas) and the webhook event types.
 * `npm run openapi` writes it; test/api/openapi.test.ts fails when the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJsonSchema } from '@valibot/to-json-schema';
import { TIMESTAMP_HEADER, SIGNATURE_HEADER } from '../shared/api/auth';
import { apiRouteSpecs, type RouteSpec } from '../shared/api/routes';
import { channelName, vodKey, type Validator } from '../shared/api/validate';
import { EVENT_TYPES } from '../shared/ledger/records';
import {
  EVENT_TYPE_HEADER,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../shared/webhooks/signature';

type Json = Record<string, unknown>;

export const OPENAPI_FILE = join(__dirname, '..', 'openapi.json');

/** The statuses every route may answer with the error shape (docs/api.md, error codes). */
const ERROR_STATUSES = ['400', '401', '404', '409', '413', '415', '422', '500', '503'] as const;
const PATH_PARAMS: Record<string, Validator<unknown>> = { name: channelName, key: vodKey };

/** Request examples, one per route that takes a body or query. */
const EXAMPLES: Record<string, Json> = {
  'POST /channels': { name: 'cam-1', description: 'lobby camera', fragDuration: 2, fragCount: 3, snapshot: true },
  'POST /channels/{name}/publish-url': { expiresInSeconds: 600 },
  'POST /channels/{name}/disable': { force: false },
  'POST /channels/{name}/vod': { start: '2024-05-01T12:00:00Z', end: 1714568400000 },
  'POST /channels/{name}/vods/{key}/hold': { reason: 'legal hold for case 42' },
  'PUT /channels/{name}/budget': { cnyPerMonth: 25 },
};

/** Event `data` as the emitters write it (shared/operations, shared/cleanup). */
const EVENT_DATA_EXAMPLES: Record<(typeof EVENT_TYPES)[number], Json> = {
  'channel.created': { generation: 1714564800000, snapshots: true, replaced: false },
  'stream.started': { broadcastId: '20240501T120000Z', startedAt: '2024-05-01T12:00:00.000Z' },
  'stream.ended': {
    broadcastId: '20240501T120000Z',
    startedAt: '2024-05-01T12:00:00.000Z',
    endedAt: '2024-05-01T13:00:00.000Z',
    pushes: 1,
  },
  'channel.disabled': { reason: 'idle', idleSince: '2024-05-01T13:00:00.000Z', generation: 1714564800000 },
  'vod.ready': {
    broadcastId: '20240501T120000Z',
    playlist: 'cam-1/vod-20240501T120000Z.m3u8',
    parts: ['cam-1/vod-20240501T120000Z.m3u8'],
  },
  'vod.failed': { broadcastId: '20240501T120000Z', reason: 'InvalidArgument: no segments in the time range' },
  'channel.deleted': { generation: 1714564800000 },
  'channel.budget_warning': { month: '2024-05', budgetCny: 10, spentCny: 8.25, used: 0.825, source: 'channel' },
  'channel.budget_exceeded': { month: '2024-05', budgetCny: 10, spentCny: 10.02, used: 1.002, source: 'config' },
  'cleanup.completed': {
    runId: 'run-20240502T030000Z',
    status: 'completed',
    dryRun: false,
    candidates: 12,
    deleted: 12,
    bytes: 7340032,
  },
};

/**
 * The field's JSON Schema; checks JSON Schema cannot say (byte lengths, calendar dates) are left to the description in
 * docs/api.md.
 */
function schemaOf(validator: Validator<unknown>): Json {
  const { $schema: _dialect, ...schema } = toJsonSchema(validator.schema, { errorMode: 'ignore' }) as Json;
  return schema;
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
    schema: schemaOf(PATH_PARAMS[name!]!),
  }));
  const queryParams = Object.entries(spec.query ?? {}).map(([name, v]) => ({
    name,
    in: 'query',
    required: false,
    schema: schemaOf(v),
    ...(EXAMPLES[key]?.[name] !== undefined ? { example: EXAMPLES[key]![name] } : {}),
  }));
  const responses: Json = { [String(spec.status)]: { $ref: '#/components/responses/Success' } };
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

function webhook(type: (typeof EVENT_TYPES)[number]): Json {
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
            schema: {
              allOf: [{ $ref: '#/components/schemas/WebhookEvent' }, { properties: { type: { const: type } } }],
            },
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
      version: '0.1.0',
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
    webhooks: Object.fromEntries(EVENT_TYPES.map((type) => [type, webhook(type)])),
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
                  description:
                    'Stable machine-readable code (docs/api.md, error codes), e.g. missing_field, invalid_field, unknown_field.',
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
        WebhookEvent: {
          type: 'object',
          required: ['id', 'type', 'channel', 'bucket', 'sequence', 'occurredAt', 'data'],
          properties: {
            id: { type: 'string', pattern: '^evt_[0-9a-f]{32}$' },
            type: { type: 'string', enum: [...EVENT_TYPES] },
            channel: { type: ['string', 'null'], description: 'null for bucket-wide events (cleanup.completed).' },
            bucket: { type: 'string' },
            sequence: {
              type: 'integer',
              minimum: 1,
              description: 'Per channel (per bucket when channel is null): 1, 2, 3… without gaps.',
            },
            occurredAt: { type: 'string', format: 'date-time' },
            data: { type: 'object' },
          },
          additionalProperties: false,
        },
      },
      responses: {
        Success: {
          description: "The operation's result.",
          content: { 'application/json': { schema: { type: 'object' } } },
        },
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
  console.log(`wrote ${OPENAPI_FILE}`);
}
