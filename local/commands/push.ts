/**
 * `livecycle push <channel>`: simulates an encoder pushing to a LiveChannel of the running
 * emulator, through its admin API (`/_emulator/ingest/*`). The push lasts N seconds of EMULATOR
 * time (read from `/_emulator/clock`), so with a fast clock a long broadcast takes little real
 * time; progress is printed per fragment; Ctrl-C stops the push cleanly.
 */
import { ADMIN_PREFIX, adminHeaders } from '../emulator/admin-client';
import { isBareIngestHost } from '../emulator/live/ingest-host';
import type { LivePushInfo as PushInfo } from '../emulator/live';
import { channelArgument, endpointOption, parseOptions, UsageError } from './args';
import { pushTestPattern } from './push-rtmp';
import type { Command } from './types';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:9000';
const DEFAULT_BUCKET = 'livecycle-demo';
const DEFAULT_SECONDS = 30;

const USAGE = `Usage: livecycle push <channel> [options]

Pushes a simulated RTMP stream to a LiveChannel of the local emulator: the emulator writes a
.ts fragment every FragDuration seconds and rewrites the live playlist, as OSS does.

Options:
  --seconds N        how long to push, in seconds of emulator time (default ${DEFAULT_SECONDS})
  --bucket B         bucket of the channel (default: from --url, else ${DEFAULT_BUCKET})
  --endpoint URL     the emulator (default ${DEFAULT_ENDPOINT})
  --url RTMP_URL     signed rtmp:// URL to push with; the emulator verifies it as OSS would
  --playlist NAME    playlist name for this push (ignored when --url carries playlistName)
  --rtmp             a real stream instead: ffmpeg publishes a test pattern to --url (the
                     emulator's RTMP port) for --seconds of real time
  -h, --help         show this help

Exit codes: 0 pushed and stopped, 1 refused or failed, 2 usage error,
130 interrupted (Ctrl-C; the push is stopped first).`;

export interface PushCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting it is Ctrl-C. Default: the process's SIGINT. */
  interrupt?: AbortSignal;
  /** Real milliseconds between polls of the emulator. */
  pollMs?: number;
}

class AdminCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parsePushArgs(argv: string[]) {
  const { values, positionals } = parseOptions(argv, {
    allowPositionals: true,
    options: {
      seconds: { type: 'string' },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      url: { type: 'string' },
      playlist: { type: 'string' },
      rtmp: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true as const };
  const channel = channelArgument(positionals);
  const seconds = values.seconds === undefined ? DEFAULT_SECONDS : Number(values.seconds);
  if (!(seconds > 0) || !Number.isFinite(seconds))
    throw new UsageError(`--seconds must be a positive number, got ${values.seconds}`);
  const endpoint = endpointOption(values.endpoint, DEFAULT_ENDPOINT);
  let bucket = values.bucket;
  if (values.url !== undefined) {
    let rtmp: URL;
    try {
      rtmp = new URL(values.url);
    } catch {
      throw new UsageError('--url must be an rtmp:// URL');
    }
    if (rtmp.protocol !== 'rtmp:') throw new UsageError('--url must be an rtmp:// URL');
    // The publish URL's host is `<bucket>.<endpoint host>`, or the RTMP port's IP (first bucket).
    if (!isBareIngestHost(rtmp.hostname)) bucket ??= rtmp.hostname.split('.')[0];
  }
  if (values.rtmp && values.url === undefined)
    throw new UsageError('--rtmp needs --url <publishUrl> (the signed URL the api returned)');
  return {
    help: false as const,
    channel,
    seconds,
    bucket: bucket ?? DEFAULT_BUCKET,
    endpoint,
    url: values.url,
    playlistName: values.playlist,
    rtmp: values.rtmp ?? false,
  };
}

async function adminCall<T>(endpoint: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${endpoint}${ADMIN_PREFIX}${path}`, {
      method,
      headers: adminHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new AdminCallError(
      0,
      `cannot reach the emulator at ${endpoint} (${(err as Error).message}); is \`livecycle start\` running?`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AdminCallError(
      res.status,
      `${endpoint} answered ${res.status} with something that is not the emulator's admin API`,
    );
  }
  if (!res.ok)
    throw new AdminCallError(res.status, String((json as { error?: unknown }).error ?? `HTTP ${res.status}`));
  return json as T;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createPushCommand(io: PushCommandIo): Command {
  return {
    name: 'push',
    summary: 'push a simulated RTMP stream to a LiveChannel of the local emulator',
    usage: USAGE,
    async run(argv) {
      let args;
      try {
        args = parsePushArgs(argv);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.err(`livecycle push: ${err.message}`);
        io.err('Run `livecycle push --help` for usage.');
        return 2;
      }
      if (args.help) {
        io.out(USAGE);
        return 0;
      }
      const { endpoint, bucket, channel, seconds } = args;
      const pollMs = io.pollMs ?? 250;

      const sigint = new AbortController();
      const onSigint = () => sigint.abort();
      if (!io.interrupt) process.once('SIGINT', onSigint);
      const interrupt = io.interrupt ?? sigint.signal;
      try {
        if (args.rtmp) return await pushTestPattern({ url: args.url!, seconds, out: io.out, err: io.err, interrupt });
        let push: PushInfo;
        try {
          // The emulator stops the push itself after `seconds` of its clock, exactly on time
          // whatever the clock's rate; this command only watches and reports.
          push = await adminCall<PushInfo>(endpoint, 'POST', '/ingest/start', {
            bucket,
            channel,
            url: args.url,
            playlistName: args.playlistName,
            seconds,
          });
        } catch (err) {
          io.err(`livecycle push: push to ${bucket}/${channel} refused: ${(err as Error).message}`);
          return 1;
        }
        io.out(
          `pushing to ${bucket}/${channel} (playlist ${push.playlistName}) from ${push.remoteAddr} for ${seconds} s of emulator time`,
        );
        const isOurs = (p: PushInfo) =>
          p.bucket === bucket && p.channel === channel && p.connectedTime === push.connectedTime;
        let reported = 0;
        const report = (p: PushInfo, nowMs: number) => {
          for (; reported < p.fragmentsWritten; reported++) {
            io.out(
              `fragment ${reported + 1} written (${((Math.min(nowMs, p.endTime ?? nowMs) - p.connectedTime) / 1000).toFixed(1)} s of ${seconds} s)`,
            );
          }
        };
        let warnedFrozen = false;
        let lastProblem: string | undefined;
        for (;;) {
          if (interrupt.aborted) {
            const { push: last } = await adminCall<{ push?: PushInfo }>(endpoint, 'POST', '/ingest/stop', {
              bucket,
              channel,
            }).catch(() => ({ push: undefined }));
            if (last && isOurs(last)) report(last, last.endTime ?? last.connectedTime);
            io.out(`interrupted: push stopped after ${reported} fragment(s)`);
            return 130;
          }
          const [clock, ingest] = await Promise.all([
            adminCall<{ now: number; rate: number }>(endpoint, 'GET', '/clock'),
            adminCall<{ pushes: PushInfo[]; ended: PushInfo[] }>(endpoint, 'GET', '/ingest'),
          ]);
          const current = ingest.pushes.find(isOurs) ?? ingest.ended.find(isOurs);
          if (!current) {
            io.err(`livecycle push: the push to ${bucket}/${channel} is gone from the emulator (was it restarted?)`);
            return 1;
          }
          report(current, clock.now);
          if (current.lastProblem && current.lastProblem !== lastProblem)
            io.err(`warning: ${(lastProblem = current.lastProblem)}`);
          if (current.endTime !== undefined) {
            if (current.stopAt !== undefined && current.endTime < current.stopAt) {
              io.err(
                `livecycle push: the emulator ended the push early after ${reported} fragment(s) (channel disabled, or stopped elsewhere)`,
              );
              return 1;
            }
            io.out(`stopped after ${reported} fragment(s)`);
            return 0;
          }
          if (clock.rate === 0 && !warnedFrozen) {
            warnedFrozen = true;
            io.out('the emulator clock is frozen (rate 0): waiting for it to be advanced');
          }
          await sleep(pollMs, interrupt);
        }
      } catch (err) {
        io.err(`livecycle push: ${(err as Error).message}`);
        return 1;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    },
  };
}

export const pushCommand: Command = createPushCommand({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
