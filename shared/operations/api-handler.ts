/**
 * The api function's wiring: the shared HTTP layer (shared/api) over `apiOperations`. The HTTP
 * layer hands operations only the request id, so the invocation's FC context (STS credentials,
 * timeout) is looked up by it for the duration of the request.
 */
import { randomUUID } from 'node:crypto';
import { createAuthenticator } from '../api/auth';
import type { FcHttpResponse } from '../api/event';
import { handleHttp, type HttpDeps } from '../api/respond';
import { apiRoutes } from '../api/routes';
import type { ConsoleHandler } from '../console';
import { apiOperations } from './api';
import { createInstance, createOperationContext, type FcContext, type Instance } from './context';
import { metered } from './usage';

export function apiHandler(name = 'api'): (event: Buffer, context?: FcContext) => Promise<FcHttpResponse> {
  let wired: { instance: Instance; run: (event: Buffer, context: FcContext) => Promise<FcHttpResponse> } | undefined;
  const invocations = new Map<string, FcContext>();
  const wire = () => {
    const instance = createInstance(name);
    const ops = apiOperations(instance, (ctx) => invocations.get(ctx.requestId) ?? {});
    const router = apiRoutes(ops);
    const auth = createAuthenticator({
      secrets: instance.config.apiSecrets,
      tokens: instance.config.apiToken ? [instance.config.apiToken] : [],
    });
    // Required on first use, not at load, so the document costs the cold start nothing.
    const openApiDocument = async () => (await import('../../openapi.json')).default as unknown;
    // The console is a chunk of its own (scripts/build.mjs: dist/api/console.js), loaded by the
    // first /console request: the api's cold start never reads it.
    let consoleHandler: Promise<ConsoleHandler> | undefined;
    const consoleRoute: HttpDeps['console'] = async (request, ctx) => {
      consoleHandler ??= import('../console').then(({ createConsole }) =>
        createConsole({
          instance,
          ops,
          auth,
          operationContext: (requestId) =>
            createOperationContext(instance, invocations.get(requestId) ?? {}, requestId),
        }),
      );
      return (await consoleHandler)(request, ctx);
    };
    return {
      instance,
      run: (event: Buffer, context: FcContext) =>
        handleHttp(event, context, router, { auth, logger: instance.logger, openApiDocument, console: consoleRoute }),
    };
  };
  return async (event, context = {}) => {
    wired ??= wire();
    const invocation = { ...context, requestId: context.requestId || randomUUID() };
    invocations.set(invocation.requestId, invocation);
    try {
      const { instance, run } = wired;
      const op = createOperationContext(instance, invocation, invocation.requestId);
      return await metered(instance, op, invocation, () => run(event, invocation), { onlyIfRequests: true });
    } finally {
      invocations.delete(invocation.requestId);
    }
  };
}
