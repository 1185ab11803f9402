import type { Logger } from '../log';
import { MAX_PUBLISH_URL_SECONDS } from '../oss/validate';
import type { FcHttpResponse } from './event';
import { json } from './respond';
import { createRouter, type Route, type RouteContext, type Router } from './router';
import {
  boolean,
  channelName,
  description,
  fragSettings,
  integer,
  note,
  optional,
  page,
  playlistName,
  queryBoolean,
  readJsonBody,
  rejectUnknownFields,
  required,
  vodKey,
  vodRange,
  type JsonObject,
  type Page,
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
  /** Create even though `<name>/` holds objects livecycle did not write (else 409 folder_not_empty); recorded in the ledger. */
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

/**
 * One route with its accepted body fields and query parameters declared up front, so no route
 * can forget the strict-input check on either.
 */
function route(
  method: string,
  pattern: string,
  accepts: { body?: readonly string[]; query?: readonly string[] },
  run: (input: RouteInput) => Promise<FcHttpResponse>,
): Route {
  return {
    method,
    pattern,
    async handle(context: RouteContext) {
      const { query } = context.request;
      rejectUnknownFields(query, accepts.query ?? []);
      const body = readJsonBody(context.request);
      rejectUnknownFields(body, accepts.body ?? []);
      return run({ body, query, params: context.params, ctx: { requestId: context.requestId, logger: context.logger } });
    },
  };
}

function channel(params: Readonly<Record<string, string>>): ChannelRef {
  return { name: required(params, 'name', channelName) };
}

function vod(params: Readonly<Record<string, string>>): VodRef {
  return { ...channel(params), key: required(params, 'key', vodKey) };
}

const PAGE = ['limit', 'cursor'];

/** The livecycle api's route table, wired to `ops`. */
export function apiRoutes(ops: ApiOperations): Router {
  return createRouter([
    route(
      'POST',
      '/channels',
      { body: ['name', 'description', 'fragDuration', 'fragCount', 'playlistName', 'snapshot', 'replace', 'adoptExistingFolder'] },
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
        return json(201, await ops.createChannel(input, ctx));
      },
    ),
    route('GET', '/channels', { query: PAGE }, async ({ query, ctx }) => json(200, await ops.listChannels(page(query), ctx))),
    route('GET', '/channels/{name}', {}, async ({ params, ctx }) => json(200, await ops.getChannel(channel(params), ctx))),
    route('POST', '/channels/{name}/publish-url', { body: ['expiresInSeconds'] }, async ({ body, params, ctx }) => {
      const expiresInSeconds = optional(body, 'expiresInSeconds', publishUrlExpiry);
      return json(200, await ops.createPublishUrl({ ...channel(params), expiresInSeconds }, ctx));
    }),
    route('POST', '/channels/{name}/enable', {}, async ({ params, ctx }) => json(200, await ops.enableChannel(channel(params), ctx))),
    route('POST', '/channels/{name}/disable', { body: ['force'] }, async ({ body, params, ctx }) => {
      const force = optional(body, 'force', boolean) ?? false;
      return json(200, await ops.disableChannel({ ...channel(params), force }, ctx));
    }),
    // DELETE bodies are dropped by some clients and proxies, so `force` travels in the query.
    route('DELETE', '/channels/{name}', { query: ['force'] }, async ({ query, params, ctx }) => {
      const force = optional(query, 'force', queryBoolean) ?? false;
      return json(200, await ops.deleteChannel({ ...channel(params), force }, ctx));
    }),
    route('POST', '/channels/{name}/vod', { body: ['start', 'end', 'playlistName'] }, async ({ body, params, ctx }) => {
      const input: VodInput = { ...channel(params), ...vodRange(body), playlistName: optional(body, 'playlistName', playlistName) };
      return json(201, await ops.createVod(input, ctx));
    }),
    route('POST', '/channels/{name}/vods/{key}/hold', { body: ['reason'] }, async ({ body, params, ctx }) => {
      return json(200, await ops.holdVod({ ...vod(params), reason: optional(body, 'reason', note) }, ctx));
    }),
    route('DELETE', '/channels/{name}/vods/{key}/hold', {}, async ({ params, ctx }) => json(200, await ops.releaseVod(vod(params), ctx))),
    route('GET', '/cleanup/report', { query: PAGE }, async ({ query, ctx }) => json(200, await ops.cleanupReport(page(query), ctx))),
  ]);
}
