import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/log';

export interface EventSpec {
  method?: string;
  rawPath?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

/** An FC 3.0 HTTP trigger event, shaped like test/api/fixtures/event-http.json, as FC hands it over. */
export function httpEvent(spec: EventSpec = {}): Buffer {
  const rawPath = spec.rawPath ?? '/';
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath,
      headers: spec.headers ?? {},
      queryParameters: spec.query ?? {},
      body: spec.body ?? '',
      isBase64Encoded: spec.isBase64Encoded ?? false,
      requestContext: {
        requestId: 'trigger-request-id',
        http: { method: spec.method ?? 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7' },
      },
    }),
  );
}

/** A logger whose JSON lines are kept in `lines` for assertions. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ name: 'api-test', level: 'debug', destination }), lines };
}
