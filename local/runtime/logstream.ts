/**
 * The one log stream of a local stack: every function's pino lines and the runtime's own lines
 * come out here as JSON, each carrying `fn` and `requestId`. Function bundles write through
 * shared/log.ts's `createLogger`, which uses the destination installed under
 * LOG_DESTINATION (global symbol registry, because each bundle has its own copy of log.ts).
 * Lines written without `fn`/`requestId` (e.g. a module-level logger) get them from the
 * invocation scope; secrets registered with `registerSecret` are masked once more on the way out.
 */
import type { DestinationStream } from 'pino';
import { scrubSecrets } from '../../shared/log';
import { scopes } from './scope';

export { installLogDestination, LOG_DESTINATION } from '../../shared/log';

export type LineSink = (line: string) => void;

export function createLogStream(sink: LineSink): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) sink(scrubSecrets(tag(line)));
    },
  };
}

function tag(line: string): string {
  const scope = scopes.getStore();
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    record =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : { msg: line };
  } catch {
    record = { msg: line };
  }
  if (!scope) return JSON.stringify(record);
  // Scope tags first so the line reads `{"fn":…,"requestId":…,…}`; the line's own values win.
  return JSON.stringify({ fn: scope.fn, ...(scope.requestId ? { requestId: scope.requestId } : {}), ...record });
}
