/**
 * undici, loaded on first use, from the same lib/ modules the package entry would assemble (the
 * entry evaluates everything it exports: fetch, WebSocket, cache stores, mock agents, ~520 KB).
 * A function's bundle evaluates its top-level imports on every cold start, and undici's Pool and
 * request API (with node:http, node:net, node:assert and llhttp's glue) were about a third of
 * that CPU time although nothing needs them before the first request: an invocation that is
 * refused or ignored never sends one. require(), not import: esbuild keeps the module in the
 * bundle and evaluates it at the first call; tsx and vitest load it from node_modules.
 */
import type { Dispatcher } from 'undici';

type PoolClass = typeof import('undici/lib/dispatcher/pool.js').default;
type RequestFn = typeof import('undici/lib/api/api-request.js').default;

let pool: { Pool: PoolClass; request: RequestFn } | undefined;

/** undici's Pool class and its request method (undici.request() is the same function mixed into Dispatcher). */
export function undiciPool(): { Pool: PoolClass; request: RequestFn } {
  return (pool ??= {
    Pool: require('undici/lib/dispatcher/pool.js') as PoolClass,
    request: require('undici/lib/api/api-request.js') as RequestFn,
  });
}

export type HttpRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};

/**
 * undici's `request(url, options)` on the global dispatcher, for callers outside the OSS client
 * (webhook delivery): same validation, target and method defaults as undici's own (index.js
 * makeDispatcher), absolute URLs only.
 */
export function request(url: string | URL, options: HttpRequestOptions = {}): Promise<Dispatcher.ResponseData> {
  const { getGlobalDispatcher } = require('undici/lib/global.js') as typeof import('undici/lib/global.js');
  const { parseURL } = require('undici/lib/core/util.js') as typeof import('undici/lib/core/util.js');
  const target = parseURL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return undiciPool().request.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: options.method || (options.body ? 'PUT' : 'GET'),
  });
}
