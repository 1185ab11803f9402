/**
 * Every error code the api answers with, listed once: its HTTP status and when it is sent.
 * ApiError's `code` is typed by this list, openapi.json's Error schema enumerates it, and
 * `npm run openapi` writes the table in docs/api.md from it. Codes are stable (docs/api.md,
 * "Versioning"); messages are for people and may change. Runtime code imports only the type.
 */
export const ERROR_CODES = {
  bad_event: [400, 'the FC event is not an HTTP trigger event'],
  invalid_path: [400, 'malformed percent-encoding in the path'],
  invalid_path_param: [400, 'a path parameter with `/`, `%2F`, `\\`, `..` or control characters'],
  invalid_json: [400, 'the body is not UTF-8 JSON, or not a JSON object'],
  unknown_field: [400, 'a body field or query parameter the route does not take (`field` names it)'],
  missing_field: [400, 'a required field is absent'],
  invalid_field: [400, 'a field of the wrong type, range or format, or a value OSS refused'],
  snapshot_not_configured: [400, '`snapshot: true` while SNAPSHOT_TOPIC is not configured'],
  missing_credentials: [401, 'no signature headers and no `Authorization`'],
  malformed_signature: [
    401,
    'a signature header missing, the timestamp not digits, or the signature not `v1=<64 hex>` (`field` names the header)',
  ],
  expired_timestamp: [401, 'the timestamp is more than 300 s from server time, either direction'],
  bad_signature: [401, 'the signature matches no configured secret'],
  replayed: [401, 'this exact signature was already accepted within the window'],
  malformed_token: [401, '`Authorization` is not `Bearer <token>`'],
  bad_token: [401, 'the token matches no configured token'],
  not_found: [404, 'no such route'],
  channel_not_found: [404, 'no channel of that name'],
  vod_not_found: [404, 'POST …/hold: no such VOD playlist in the channel’s folder'],
  method_not_allowed: [405, 'the path exists, the method does not; `Allow` lists the methods'],
  channel_exists: [409, 'POST /channels: a channel of that name exists; send `replace: true` to overwrite it'],
  folder_not_empty: [
    409,
    'POST /channels over a folder holding objects livecycle did not write; send `adoptExistingFolder: true`',
  ],
  channel_disabled: [
    409,
    'OSS refused to build a VOD of a disabled channel (DELETE, manual VOD); enable the channel and retry',
  ],
  channel_live: [409, 'the channel is live; stop the push or send `force`'],
  vod_exists: [409, 'POST …/vod: a different VOD starting at that second exists'],
  payload_too_large: [413, 'the body is over 64 KiB'],
  unsupported_media_type: [415, 'a non-empty body that is not `application/json`'],
  vod_failed: [422, 'POST …/vod: OSS built no playlist (e.g. no fragment lies in the range)'],
  // The console's routes (/console/*, docs/console.md): not in openapi.json's paths, same error shape.
  no_session: [401, 'console: no valid session cookie; sign in first'],
  bad_login_link: [401, 'console: the login link is not valid or has expired'],
  login_link_used: [401, 'console: the login link was used already; sign in with the api token'],
  cross_origin: [403, 'console: an action that did not come from the console page (`Origin`, `Sec-Fetch-Site`)'],
  file_not_found: [404, 'console: no such playlist, fragment or snapshot in the channel’s folder'],
  console_not_built: [500, 'console: the page assets are missing from the bundle (`npm run build`)'],
  internal: [500, 'an unexpected failure; details in the log under the request id (`requestId`)'],
  replay_store_full: [
    503,
    'this instance’s replay store is full of unexpired signatures; retry after `Retry-After` seconds',
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;
