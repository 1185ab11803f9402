/**
 * Admin API for the simulated publishers, under `/_emulator` (JSON in and out):
 *   POST /ingest/start {bucket, channel, url?, playlistName?, remoteAddr?, seconds?} → the push
 *   POST /ingest/stop  {bucket, channel}             → {stopped: true, push} (push as it ended)
 *   GET  /ingest                                     → {pushes: [...active], ended: [...recent]}
 * `seconds` (emulator time) makes the push stop by itself, exactly on the emulator clock.
 * OSS errors of a refused push become AdminErrors with the same status and `Code: message`.
 */
import { AdminError, OssErrorResponse, type AdminRoute } from '../types';
import type { Ingest } from './ingest';

function member(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function field(body: unknown, name: string, required: true): string;
function field(body: unknown, name: string, required: false): string | undefined;
function field(body: unknown, name: string, required: boolean): string | undefined {
  const value = member(body, name);
  if (value === undefined || value === null) {
    if (required) throw new AdminError(400, `"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value === '') throw new AdminError(400, `"${name}" must be a non-empty string`);
  return value;
}

function positiveNumber(body: unknown, name: string): number | undefined {
  const value = member(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    throw new AdminError(400, `"${name}" must be a positive number`);
  return value;
}

async function asAdminError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OssErrorResponse) throw new AdminError(err.status, `${err.code}: ${err.message}`);
    throw err;
  }
}

export function ingestAdminRoutes(ingest: Ingest): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/ingest/start',
      handle: (body) =>
        asAdminError(() =>
          ingest.start({
            bucket: field(body, 'bucket', true),
            channel: field(body, 'channel', true),
            signedUrl: field(body, 'url', false),
            playlistName: field(body, 'playlistName', false),
            remoteAddr: field(body, 'remoteAddr', false),
            durationSeconds: positiveNumber(body, 'seconds'),
          }),
        ),
    },
    {
      method: 'POST',
      path: '/ingest/stop',
      async handle(body) {
        const bucket = field(body, 'bucket', true);
        const channel = field(body, 'channel', true);
        if (!ingest.push(bucket, channel)) throw new AdminError(404, `nobody is pushing to ${bucket}/${channel}`);
        return { stopped: true, push: await ingest.stop({ bucket, channel }) };
      },
    },
    {
      method: 'GET',
      path: '/ingest',
      handle: async () => ({ pushes: ingest.active(), ended: ingest.recentlyEnded() }),
    },
  ];
}
