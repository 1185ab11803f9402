/**
 * undici's `request(url, options)` on the global dispatcher, built from the same lib/ modules as
 * the OSS client's pool (see client.ts: undici's package entry costs most of a cold start).
 * For callers outside the client, e.g. webhook delivery; same validation, target and method
 * defaults as undici's own (index.js makeDispatcher), absolute URLs only.
 */
import type { Dispatcher } from 'undici';
import dispatcherRequest from 'undici/lib/api/api-request.js';
import { getGlobalDispatcher } from 'undici/lib/global.js';
import { parseURL } from 'undici/lib/core/util.js';

export type HttpRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};

export function request(url: string | URL, options: HttpRequestOptions = {}): Promise<Dispatcher.ResponseData> {
  const target = parseURL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = options;
  return dispatcherRequest.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: options.method || (options.body ? 'PUT' : 'GET'),
  });
}
