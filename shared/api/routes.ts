import type * as v from 'valibot';
import type { Logger } from '../log';
import { MAX_PUBLISH_URL_SECONDS } from '../oss/validate';
// Types only: the schemas stay out of the api bundle (scripts/openapi.ts looks them up by name).
import type * as Responses from './responses';
import { json } from './respond';
import { createRouter, type Route, type RouteContext, type Router } from './router';
import {
  boolean,
  channelName,
  cny,
  cursor,
  described,
  description,
  fragSettings,
  fragValue,
  instant,
  integer,
  note,
  optional,
  playlistName,
  queryBoolean,
  queryLimit,
  readJsonBody,
  rejectUnknownFields,
  required,
  vodKey,
  vodRange,
  type JsonObject,
  type Validator,
} from './validate';

export interface OperationContext {
  requestId: string;
  logger: Logger;
}

/** A route's body fields or query parameters: each name's validator, whose schema also documents it. */
export type Fields = Readonly<Record<string, Validator<unknown>>>;

type ValueOf<V> = V extends Validator<infer T> ? T : never;

/** The validated values of `F`: each optional (absent, or JSON null) unless named in `R`. */
export type FieldValues<F extends Fields, R extends keyof F = never> = {
  -readonly [K in Exclude<keyof F, R>]?: ValueOf<F[K]>;
} & { -readonly [K in R]: ValueOf<F[K]> };

/** The `{param}` names of a route pattern, e.g. `'name' | 'key'`. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParams<Rest>
  : never;

/**
 * Every path parameter a pattern may use, with its validator: one rule per name across all
 * routes (a `{name}` is a channel name wherever it appears). A new parameter name is added here.
 */
const PATH_PARAMETERS = { name: channelName, key: vodKey } satisfies Fields;

/** Body of POST /channels. */
const CREATE_CHANNEL_BODY = {
  name: described(channelName, 'Absent: a name is generated (ch-<UTC time>-<6 base32>) and returned.'),
  description,
  fragDuration: described(fragValue, 'HLS fragment seconds; with fragCount, or neither (then the default, 5).'),
  fragCount: described(
    fragValue,
    'Fragments in the live playlist; with fragDuration, or neither (then the default, 3).',
  ),
  playlistName: described(playlistName, 'The live playlist name (default playlist.m3u8).'),
  snapshot: described(boolean, 'Snapshot the stream (needs SNAPSHOT_TOPIC); default: whether SNAPSHOT_TOPIC is set.'),
  replace: described(boolean, 'Overwrite an existing channel of the name instead of answering 409 channel_exists.'),
  adoptExistingFolder: described(
    boolean,
    'Create even though <name>/ holds objects livecycle did not write (else 409 folder_not_empty); recorded in the ledger, and cleanup never deletes them.',
  ),
} satisfies Fields;

const PAGE_QUERY = {
  limit: described(queryLimit, 'Page size (default 100).'),
  cursor: described(cursor, 'nextCursor of the previous page.'),
} satisfies Fields;
const PUBLISH_URL_BODY = {
  expiresInSeconds: described(
    integer(60, MAX_PUBLISH_URL_SECONDS),
    'Lifetime of the signed URL (default PUBLISH_URL_TTL).',
  ),
} satisfies Fields;
const FORCE = 'Act even while the channel is live: the publisher is cut off.';
const DISABLE_BODY = { force: described(boolean, FORCE) } satisfies Fields;
// DELETE bodies are dropped by some clients and proxies, so `force` travels in the query.
const DELETE_QUERY = { force: described(queryBoolean, FORCE) } satisfies Fields;
const VOD_BODY = {
  start: described(instant, 'ISO-8601 date-time with zone, or epoch milliseconds.'),
  end: described(instant, 'After start, at most 7 days later; ISO-8601 with zone, or epoch milliseconds.'),
  playlistName: described(playlistName, 'The playlist name viewers open (default vod-<start>.m3u8).'),
} satisfies Fields;
const HOLD_BODY = { reason: described(note, 'Why the VOD is held (default "held via api").') } satisfies Fields;

export type ChannelRef = { name: string };
export type Page = FieldValues<typeof PAGE_QUERY>;
export type CreateChannelInput = Omit<
  FieldValues<typeof CREATE_CHANNEL_BODY>,
  'fragDuration' | 'fragCount' | 'replace' | 'adoptExistingFolder'
> & {
  /** The HLS window; absent means the configured default. */
  frag?: { fragDuration: number; fragCount: number };
  replace: boolean;
  adoptExistingFolder: boolean;
};
export type PublishUrlInput = ChannelRef & FieldValues<typeof PUBLISH_URL_BODY>;
export type ForceInput = ChannelRef & { force: boolean };
export type VodInput = ChannelRef & { startMs: number; endMs: number; playlistName?: string };
export type VodRef = ChannelRef & { key: string };
export type HoldInput = VodRef & FieldValues<typeof HOLD_BODY>;
const BUDGET_BODY = {
  cnyPerMonth: described(cny, "Monthly budget in CNY; 0: no budget of the channel's own (COST_BUDGET_CNY applies)."),
} satisfies Fields;
export type BudgetInput = ChannelRef & FieldValues<typeof BUDGET_BODY, 'cnyPerMonth'>;

/**
 * What the api function plugs in. Inputs arrive validated; each returns the JSON object to send,
 * typed by the route's response schema (shared/api/responses.ts). Domain failures (no such
 * channel, already exists, live without force) are thrown as ApiError with 404 / 409 / …;
 * anything else thrown becomes a logged 500.
 */
export interface ApiOperations {
  createChannel(input: CreateChannelInput, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_CREATED'>>;
  listChannels(input: Page, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_LIST'>>;
  getChannel(input: ChannelRef, ctx: OperationContext): Promise<SuccessBody<'CHANNEL'>>;
  createPublishUrl(input: PublishUrlInput, ctx: OperationContext): Promise<SuccessBody<'PUBLISH_URL'>>;
  enableChannel(input: ChannelRef, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_ENABLED'>>;
  disableChannel(input: ForceInput, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_DISABLED'>>;
  deleteChannel(input: ForceInput, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_DELETED'>>;
  createVod(input: VodInput, ctx: OperationContext): Promise<SuccessBody<'VOD_CREATED'>>;
  holdVod(input: HoldInput, ctx: OperationContext): Promise<SuccessBody<'VOD_HELD'>>;
  releaseVod(input: VodRef, ctx: OperationContext): Promise<SuccessBody<'VOD_RELEASED'>>;
  cleanupReport(input: Page, ctx: OperationContext): Promise<SuccessBody<'CLEANUP_REPORT'>>;
  /** Cost per channel (docs/cost.md); a page of channels by name. */
  cost(input: Page, ctx: OperationContext): Promise<SuccessBody<'COST_REPORT'>>;
  channelCost(input: ChannelRef, ctx: OperationContext): Promise<SuccessBody<'CHANNEL_COST_REPORT'>>;
  setBudget(input: BudgetInput, ctx: OperationContext): Promise<SuccessBody<'BUDGET_SET'>>;
  /** Drift between OSS, the ledger and the bucket's folders (read only). */
  drift(input: Record<never, never>, ctx: OperationContext): Promise<SuccessBody<'DRIFT_REPORT'>>;
}

/** The name of a success body's schema in shared/api/responses.ts. */
export type ResponseName = keyof typeof Responses;
/** The success body `name` describes. */
export type SuccessBody<N extends ResponseName> = v.InferOutput<(typeof Responses)[N]>;

/**
 * What a route takes and answers, as openapi.json (scripts/openapi.ts) describes it. `body` and
 * `query` are checked in declaration order, after the path parameters (PATH_PARAMETERS).
 */
export interface RouteSpec<
  P extends string = string,
  B extends Fields = Fields,
  Q extends Fields = Fields,
  R extends keyof B = keyof B,
  S extends ResponseName = ResponseName,
> {
  method: string;
  pattern: P;
  summary: string;
  body?: B;
  query?: Q;
  /** Body fields that must be present (else 400 missing_field). */
  required?: readonly R[];
  /** The success status. */
  status: 200 | 201;
  /**
   * The name of the success body's schema in shared/api/responses.ts: openapi.json documents it
   * field by field, and the route's run must return its type. Every route declares one (`npm run
   * openapi` refuses a route without). A name, not the schema, so the api bundle does not carry it.
   */
  response?: S;
}

/** What a route's run gets: everything validated and typed from the route's declarations. */
export interface RouteInput<P extends string, B extends Fields, Q extends Fields, R extends keyof B> {
  params: Record<PathParams<P>, string>;
  body: FieldValues<B, R>;
  query: FieldValues<Q>;
  ctx: OperationContext;
}

/** The values of `fields` in `input`, each checked by its validator; `required` ones must be present. */
function readFields(
  input: Readonly<Record<string, unknown>>,
  fields: Fields,
  requiredFields: readonly PropertyKey[] = [],
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([name, validate]) => [
      name,
      requiredFields.includes(name) ? required(input, name, validate) : optional(input, name, validate),
    ]),
  );
}

export type DeclaredRoute = Route & { spec: RouteSpec };

/**
 * One route with its path parameters, body fields, query parameters and success body declared up
 * front: the route refuses undeclared fields, validates the declared ones before `run`, and the
 * document lists exactly what is checked and answered.
 */
export function route<
  const P extends string,
  const B extends Fields = Record<never, never>,
  const Q extends Fields = Record<never, never>,
  const R extends keyof B = never,
  const S extends ResponseName = never,
>(
  spec: RouteSpec<P, B, Q, R, S>,
  run: (input: RouteInput<P, B, Q, R>) => Promise<[S] extends [never] ? JsonObject : SuccessBody<S>>,
): DeclaredRoute {
  const params: Fields = Object.fromEntries(
    [...spec.pattern.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
      const validate = (PATH_PARAMETERS as Fields)[name!];
      if (!validate) throw new Error(`${spec.pattern}: no rule for path parameter {${name}} in PATH_PARAMETERS`);
      return [name!, validate];
    }),
  );
  return {
    method: spec.method,
    pattern: spec.pattern,
    spec: spec as unknown as RouteSpec,
    async handle(context: RouteContext) {
      const { query } = context.request;
      rejectUnknownFields(query, Object.keys(spec.query ?? {}));
      const body = readJsonBody(context.request);
      rejectUnknownFields(body, Object.keys(spec.body ?? {}));
      const input = {
        params: readFields(context.params, params),
        query: readFields(query, spec.query ?? {}),
        body: readFields(body, spec.body ?? {}, spec.required),
        ctx: { requestId: context.requestId, logger: context.logger },
      } as RouteInput<P, B, Q, R>;
      return json(spec.status, (await run(input)) as JsonObject);
    },
  };
}

/** The validator of each path parameter, for openapi.json. */
export function pathParameter(name: string): Validator<unknown> | undefined {
  return (PATH_PARAMETERS as Fields)[name];
}

/** The livecycle api's route table, wired to `ops`. */
function routeTable(ops: ApiOperations): DeclaredRoute[] {
  return [
    route(
      {
        method: 'POST',
        pattern: '/channels',
        summary: 'Create a channel',
        status: 201,
        body: CREATE_CHANNEL_BODY,
        response: 'CHANNEL_CREATED',
      },
      async ({ body, ctx }) => {
        const { fragDuration, fragCount, replace, adoptExistingFolder, ...rest } = body;
        const frag = fragSettings(fragDuration, fragCount);
        return ops.createChannel(
          { ...rest, frag, replace: replace ?? false, adoptExistingFolder: adoptExistingFolder ?? false },
          ctx,
        );
      },
    ),
    route(
      {
        method: 'GET',
        pattern: '/channels',
        summary: 'List channels',
        status: 200,
        query: PAGE_QUERY,
        response: 'CHANNEL_LIST',
      },
      async ({ query, ctx }) => ops.listChannels(query, ctx),
    ),
    route(
      { method: 'GET', pattern: '/channels/{name}', summary: 'Get a channel', status: 200, response: 'CHANNEL' },
      async ({ params, ctx }) => ops.getChannel(params, ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/publish-url',
        summary: 'Sign an RTMP publish URL',
        status: 200,
        body: PUBLISH_URL_BODY,
        response: 'PUBLISH_URL',
      },
      async ({ body, params, ctx }) => ops.createPublishUrl({ ...params, ...body }, ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/enable',
        summary: 'Enable a channel',
        status: 200,
        response: 'CHANNEL_ENABLED',
      },
      async ({ params, ctx }) => ops.enableChannel(params, ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/disable',
        summary: 'Disable a channel',
        status: 200,
        body: DISABLE_BODY,
        response: 'CHANNEL_DISABLED',
      },
      async ({ body, params, ctx }) => ops.disableChannel({ ...params, force: body.force ?? false }, ctx),
    ),
    route(
      {
        method: 'DELETE',
        pattern: '/channels/{name}',
        summary: 'Delete a channel',
        status: 200,
        query: DELETE_QUERY,
        response: 'CHANNEL_DELETED',
      },
      async ({ query, params, ctx }) => ops.deleteChannel({ ...params, force: query.force ?? false }, ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/vod',
        summary: 'Generate a VOD playlist for a time range',
        status: 201,
        body: VOD_BODY,
        required: ['start', 'end'],
        response: 'VOD_CREATED',
      },
      async ({ body, params, ctx }) =>
        ops.createVod({ ...params, ...vodRange(body.start, body.end), playlistName: body.playlistName }, ctx),
    ),
    route(
      {
        method: 'POST',
        pattern: '/channels/{name}/vods/{key}/hold',
        summary: 'Hold a VOD against retention',
        status: 200,
        body: HOLD_BODY,
        response: 'VOD_HELD',
      },
      async ({ body, params, ctx }) => ops.holdVod({ ...params, ...body }, ctx),
    ),
    route(
      {
        method: 'DELETE',
        pattern: '/channels/{name}/vods/{key}/hold',
        summary: 'Release a VOD hold',
        status: 200,
        response: 'VOD_RELEASED',
      },
      async ({ params, ctx }) => ops.releaseVod(params, ctx),
    ),
    route(
      {
        method: 'GET',
        pattern: '/cleanup/report',
        summary: 'Read the latest cleanup report',
        status: 200,
        query: PAGE_QUERY,
        response: 'CLEANUP_REPORT',
      },
      async ({ query, ctx }) => ops.cleanupReport(query, ctx),
    ),
    route(
      {
        method: 'GET',
        pattern: '/cost',
        summary: 'Cost per channel (a page of channels)',
        status: 200,
        query: PAGE_QUERY,
        response: 'COST_REPORT',
      },
      async ({ query, ctx }) => ops.cost(query, ctx),
    ),
    route(
      {
        method: 'GET',
        pattern: '/channels/{name}/cost',
        summary: "A channel's cost",
        status: 200,
        response: 'CHANNEL_COST_REPORT',
      },
      async ({ params, ctx }) => ops.channelCost(params, ctx),
    ),
    route(
      {
        method: 'PUT',
        pattern: '/channels/{name}/budget',
        summary: "Set a channel's monthly budget (0: none of its own)",
        status: 200,
        body: BUDGET_BODY,
        required: ['cnyPerMonth'],
        response: 'BUDGET_SET',
      },
      async ({ params, body, ctx }) => ops.setBudget({ ...params, ...body }, ctx),
    ),
    route(
      {
        method: 'GET',
        pattern: '/drift',
        summary: 'Drift between OSS, the ledger and the bucket (read only)',
        status: 200,
        response: 'DRIFT_REPORT',
      },
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
