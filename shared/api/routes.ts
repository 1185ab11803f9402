import type { Logger } from '../log';
import { MAX_PUBLISH_URL_SECONDS } from '../oss/validate';
import type { FcHttpResponse } from './event';
import { json } from './respond';
import { createRouter, type Route, type RouteContext, type Router } from './router';
import {
  boolean,
  channelName,
  cny,
  cursor,
  description,
  fragSettings,
  fragValue,
  instant,
  integer,
  note,
  optional,
  page,
  playlistName,
  queryBoolean,
  queryLimit,
  readJsonBody,
  rejectUnknownFields,
  required,
  vodKey,
  vodRange,
  type JsonObject,
  type Page,
  type Validator,
} from './validate';

export interface OperationContext {
  requestId: string;
  logger: Logger;
}

export interface CreateChannelInput {
  /** Absent: the operation generates a name and returns it. */
  name?: string;
  description?: string;
  /** HLS window; absent means the configured default. */
  frag?: { fragDuration: number; fragCount: number };
  playlistName?: string;
  /** Snapshot to the configured destination; absent means the configured default. */
  snapshot?: boolean;
  /** Overwrite an existing channel of that name instead of failing with 409. */
  replace: boolean;
  /**
   * Create even though `<name>/` holds objects livecycle did not write (else 409 folder_not_empty); recorded in the
   * ledger.
   */
  adoptExistingFolder: boolean;
}

export interface ChannelRef {
  name: string;
}

export interface PublishUrlInput extends ChannelRef {
  /** Absent means the configured default. */
  expiresInSeconds?: number;
}

export interface ForceInput extends ChannelRef {
  /** Act even while the channel is live (the publisher is cut off). */
  force: boolean;
}

export interface VodInput extends ChannelRef {
  startMs: number;
  endMs: number;
  playlistName?: string;
}

export interface VodRef extends ChannelRef {
  key: string;
}

export interface HoldInput extends VodRef {
  reason?: string;
}

export interface BudgetInput extends ChannelRef {
  /** Monthly budget in CNY; 0: no budget for this channel (whatever COST_BUDGET_CNY says). */
  cnyPerMonth: number;
}

/**
 * What the api function plugs in. Inputs arrive validated; each returns the JSON object to send.
 * Domain failures (no such channel, already exists, live without force) are thrown as ApiError
 * with 404 / 409 / …; anything else thrown becomes a logged 500.
 */
export interface ApiOperations {
  createChannel(input: CreateChannelInput, ctx: OperationContext): Promise<JsonObject>;
  listChannels(input: Page, ctx: OperationContext): Promise<JsonObject>;
  getChannel(input: ChannelRef, ctx: OperationContext): Promise<JsonObject>;
  createPublishUrl(input: PublishUrlInput, ctx: OperationContext): Promise<JsonObject>;
  enableChannel(input: ChannelRef, ctx: OperationContext): Promise<JsonObject>;
  disableChannel(input: ForceInput, ctx: OperationContext): Promise<JsonObject>;
  deleteChannel(input: ForceInput, ctx: OperationContext): Promise<JsonObject>;
  createVod(input: VodInput, ctx: OperationContext): Promise<JsonObject>;
  holdVod(input: HoldInput, ctx: OperationContext): Promise<JsonObject>;
  releaseVod(input: VodRef, ctx: OperationContext): Promise<JsonObject>;
  cleanupReport(input: Page, ctx: OperationContext): Promise<JsonObject>;
  /** Cost per channel (docs/cost.md); a page of channels by name. */
  cost(input: Page, ctx: OperationContext): Promise<JsonObject>;
  channelCost(input: ChannelRef, ctx: OperationContext): Promise<JsonObject>;
  setBudget(input: BudgetInput, ctx: OperationContext): Promise<JsonObject>;
  /** Drift between OSS, the ledger and the bucket's folders (read only). */
  drift(input: Page, ctx: OperationContext): Promise<JsonObject>;
}

const publishUrlExpiry = integer(60, MAX_PUBLISH_URL_SECONDS);

interface RouteInput {
  /** The JSON body, holding only the route's declared fields. */
  body: JsonObject;
  /** The query, holding only the route's declared parameters. */
  query: Readonly<Record<string, string>>;
  params: Readonly<Record<string, string>>;
  ctx: OperationContext;
}

type Fields = Readonly<Record<string, Validator<unknown>>>;

/** What a route takes and answers, as openapi.json (scripts/openapi.ts) describes it. */
export interface RouteSpec {
  method: string;
  pattern: string;
  summary: string;
  /** Body fields and query parameters with their validators, in the order they are checked. */
  body?: Fields;
  query?: Fields;
  /** Body fields that must be present. */
  required?: readonly string[];
  /** The success status. */
  status: 200 | 201;
}

/**
 * One route with its accepted body fields and query parameters declared up front, so no route
 * can forget the strict-input check on either, and the document lists exactly what is checked.
 */
function route(spec: RouteSpec, run: (input: RouteInput) => Promise<JsonObject>): Route & { spec: RouteSpec } {
  return {
    method: spec.method,
    pattern: spec.pattern,
    spec,
    async handle(context: RouteContext) {
      const { query } = context.request;
      rejectUnknownFields(query, Object.keys(spec.query ?? {}));
      const body = readJsonBody(context.request);
      rejectUnknownFields(body, Object.keys(spec.body ?? {}));
      return json(
        spec.status,
        await run({
          body,
          query,
          params: context.params,
          ctx: { requestId: context.requestId, logger: context.logger },
        }),
      );
    },
  };
}

function channel(params: Readonly<Record<string, string>>): ChannelRef {
  return { name: required(params, 'name', channelName) };
}

function vod(params: Readonly<Record<string, string>>): VodRef {
  return { ...channel(params), key: required(params, 'key', vodKey) };
}

const PAGE = { limit: queryLimit, cursor };

/** The livecycle api's route table, wired to `ops`. */
function routeTable(ops: ApiOperations) {
  return [
    route(
      {
        method: 'POST',
        pattern: '/channels',
        summary: 'Create a channel',
        status: 201,
        body: {
          name: channelName,
          description,
          fragDuration: fragValue,
          fragCount: fragValue,
          playlistName,
          snapshot: boolean,
          replace: boolean,
          adoptExistingFolder: boolean,
        },
      },
      async ({ body, ctx }) => {
        const input: CreateChannelInput = {
          name: optional(body, 'name', channelName),
          description: optional(body, 'description', description),
          frag: fragSettings(body),
          playlistName: optional(body, 'playlistName', playlistName),
          snapshot: optional(body, 'snapshot', boolean),
          replace: optional(body, 'replace', boolean) ?? false,
          adoptExistingFolder: optional(body, 'adoptExistingFolder', boolean) ?? false,
        };
        return ops.createChannel(input, ctx);
      },
    ),
    route(
      { method: 'GET', pattern: '/channels', summary: 'List channels', status: 200, query: PAGE },
      async ({ query, ctx }) => ops.listChannels(page(query), ctx),
    ),
    route(
      { method: 'GET', pattern: '/channels/{name}', summary: 'Get a channel', status: 200 },
      async ({ params, ctx }) => ops.getChannel(channel(params), ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/publish-url',
        summary: 'Sign an RTMP publish URL',
        status: 200,
        body: { expiresInSeconds: publishUrlExpiry },
      },
      async ({ body, params, ctx }) => {
        const expiresInSeconds = optional(body, 'expiresInSeconds', publishUrlExpiry);
        return ops.createPublishUrl({ ...channel(params), expiresInSeconds }, ctx);
      },
    ),
    route(
      { method: 'POST', pattern: '/channels/{name}/enable', summary: 'Enable a channel', status: 200 },
      async ({ params, ctx }) => ops.enableChannel(channel(params), ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/disable',
        summary: 'Disable a channel',
        status: 200,
        body: { force: boolean },
      },
      async ({ body, params, ctx }) => {
        const force = optional(body, 'force', boolean) ?? false;
        return ops.disableChannel({ ...channel(params), force }, ctx);
      },
    ),
    // DELETE bodies are dropped by some clients and proxies, so `force` travels in the query.
    route(
      {
        method: 'DELETE',
        pattern: '/channels/{name}',
        summary: 'Delete a channel',
        status: 200,
        query: { force: queryBoolean },
      },
      async ({ query, params, ctx }) => {
        const force = optional(query, 'force', queryBoolean) ?? false;
        return ops.deleteChannel({ ...channel(params), force }, ctx);
      },
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/vod',
        summary: 'Generate a VOD playlist for a time range',
        status: 201,
        body: { start: instant, end: instant, playlistName },
        required: ['start', 'end'],
      },
      async ({ body, params, ctx }) => {
        const input: VodInput = {
          ...channel(params),
          ...vodRange(body),
          playlistName: optional(body, 'playlistName', playlistName),
        };
        return ops.createVod(input, ctx);
      },
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/vods/{key}/hold',
        summary: 'Hold a VOD against retention',
        status: 200,
        body: { reason: note },
      },
      async ({ body, params, ctx }) => {
        return ops.holdVod({ ...vod(params), reason: optional(body, 'reason', note) }, ctx);
      },
    ),
    route(
      { method: 'DELETE', pattern: '/channels/{name}/vods/{key}/hold', summary: 'Release a VOD hold', status: 200 },
      async ({ params, ctx }) => ops.releaseVod(vod(params), ctx),
    ),
    route(
      {
        method: 'GET',
        pattern: '/cleanup/report',
        summary: 'Read the latest cleanup report',
        status: 200,
        query: PAGE,
      },
      async ({ query, ctx }) => ops.cleanupReport(page(query), ctx),
    ),
    route(
      { method: 'GET', pattern: '/cost', summary: 'Cost per channel (a page of channels)', status: 200, query: PAGE },
      async ({ query, ctx }) => ops.cost(page(query), ctx),
    ),
    route(
      { method: 'GET', pattern: '/channels/{name}/cost', summary: "A channel's cost", status: 200 },
      async ({ params, ctx }) => ops.channelCost(channel(params), ctx),
    ),
    route(
      {
        method: 'PUT',
        pattern: '/channels/{name}/budget',
        summary: "Set a channel's monthly budget (0: none)",
        status: 200,
        body: { cnyPerMonth: cny },
        required: ['cnyPerMonth'],
      },
      async ({ body, params, ctx }) =>
        ops.setBudget({ ...channel(params), cnyPerMonth: required(body, 'cnyPerMonth', cny) }, ctx),
    ),
    route(
      { method: 'GET', pattern: '/drift', summary: 'Drift between OSS, the ledger and the bucket', status: 200 },
      async ({ ctx }) => ops.drift({}, ctx),
    ),
  ];
}

export function apiRoutes(ops: ApiOperations): Router {
  return createRouter(routeTable(ops));
}

/** Every route's declaration, for openapi.json. */
export function apiRouteSpecs(): RouteSpec[] {
  return routeTable(new Proxy({}, { get: () => async () => ({}) }) as ApiOperations).map((r) => r.spec);
}
