/**
 * The HTTP trigger on a local port: each request becomes FC 3.0's JSON event (events.ts), the
 * function runs synchronously (FC never retries sync calls), and its `{statusCode, headers,
 * body, isBase64Encoded}` becomes the response. Errors follow FC's convention of a response
 * carrying `x-fc-error-type`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock';
import { httpEvent, httpReply } from './events';
import type { FunctionHost } from './invoke';
import type { HttpTriggerSpec } from './syaml';

/** FC's synchronous request limit (reference §1.6). */
export const SYNC_BODY_LIMIT = 32 * 1024 * 1024;

export interface HttpTriggerServer {
  url: string;
  close(): Promise<void>;
}

export async function serveHttpTrigger(opts: {
  host: FunctionHost;
  trigger: HttpTriggerSpec;
  clock: Clock;
  accountId: string;
  port: number;
  log: Logger;
}): Promise<HttpTriggerServer> {
  const { host, trigger, log } = opts;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const requestId = randomUUID();
      const send = (status: number, headers: Record<string, string>, body: Buffer | string) => {
        res.writeHead(status, { ...headers, 'x-fc-request-id': requestId });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (!trigger.methods.includes(req.method as HttpTriggerSpec['methods'][number])) {
        return send(
          405,
          { 'content-type': 'application/json' },
          JSON.stringify({
            ErrorCode: 'MethodNotAllowed',
            ErrorMessage: `trigger ${trigger.name} accepts ${trigger.methods.join(', ')}`,
          }),
        );
      }
      const body = await readBody(req, SYNC_BODY_LIMIT);
      if (body === undefined)
        return send(
          413,
          { 'content-type': 'application/json' },
          JSON.stringify({ ErrorCode: 'RequestEntityTooLarge', ErrorMessage: `body exceeds ${SYNC_BODY_LIMIT} bytes` }),
        );
      const event = httpEvent(
        {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          rawHeaders: req.rawHeaders,
          httpVersion: req.httpVersion,
          sourceIp: req.socket.remoteAddress ?? '',
          body,
        },
        { requestId, accountId: opts.accountId, triggerName: trigger.name, nowMs: opts.clock.now() },
      );
      const outcome = await host.invoke(
        event,
        requestId,
        `http ${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]}`,
      );
      if (outcome.status === 'failed') {
        return send(
          502,
          { 'content-type': 'application/json', 'x-fc-error-type': outcome.error!.type },
          outcome.payload,
        );
      }
      const { reply, shaped } = httpReply(outcome.value);
      if (!shaped)
        log.warn(
          { fn: host.spec.name, requestId },
          'HTTP handler returned no {statusCode}; sent as a 200 body (unconfirmed FC behaviour)',
        );
      send(reply.statusCode, reply.headers, reply.body);
    })().catch((err: unknown) => {
      log.error({ err }, 'HTTP trigger failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  return listenLocal(server, opts.port);
}

/** Listens on 127.0.0.1:`port` (0: a free one); its URL, and a close that also drops open connections. */
export async function listenLocal(server: Server, port: number): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The request body, or undefined once it exceeds `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
