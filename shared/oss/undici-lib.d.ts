/**
 * Types for the two undici modules the client imports directly instead of the package entry
 * (see client.ts: the entry loads fetch, WebSocket, caches and mocks on every cold start).
 */
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export default Pool;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** `Dispatcher.prototype.request`, unbound: the package entry mixes it into Dispatcher, the bare module does not. */
  export default function request(
    this: Dispatcher,
    options: Dispatcher.RequestOptions,
  ): Promise<Dispatcher.ResponseData>;
}

declare module 'undici/lib/global.js' {
  export { getGlobalDispatcher } from 'undici';
}

declare module 'undici/lib/core/util.js' {
  /** Validates an http(s) URL (InvalidArgumentError otherwise) and returns it as a URL. */
  export function parseURL(url: string | URL): URL;
}
