/**
 * What `livecycle start` prints: the banner (where things are, commands to try), the log stream
 * (human lines on a terminal, or today's JSON with `--log-format json`; the full JSON always goes
 * to <data>/logs/livecycle.jsonl), what to expect after a push ends, and what Ctrl-C stopped.
 * Commands are printed as `node bin/livecycle.js …`: it runs the project's own CLI and can never
 * ask a registry for a package (as `npx livecycle` may when the bin is not linked).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadConfig } from '../../shared/config';
import { DEFAULT_SKEW_TOLERANCE_MS } from '../../shared/lifecycle/time';
import type { PushInfo } from '../emulator/types';
import { DEFAULT_BUCKET, rtmpLines } from '../emulator';
import type { LineSink } from '../runtime/logstream';
import { clockTime, paint, prettyLine } from '../runtime/pretty';
import { parseSchedule, type Schedule } from '../runtime/scheduler';
import { UsageError } from './args';
import { describeShellOverrides } from './stack-env';
import type { LocalStack } from '../stack';

export type LogFormat = 'human' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['human', 'json'];

/** The local CLI, runnable from the project root without any registry lookup. */
export const CLI = 'node bin/livecycle.js';
export const LOG_FILE = join('logs', 'livecycle.jsonl');

export interface StackLog {
  sink: LineSink;
  /** Absolute path of the JSON log file. */
  file: string;
  close(): void;
}

/**
 * Every JSON line to the log file; to `out` as-is (`json`) or as human lines (`human`), where
 * `onRecord` may add lines of its own for a record (e.g. how to play a VOD).
 */
export function createStackLog(opts: {
  dataDir: string;
  format: LogFormat;
  colour: boolean;
  now: () => number;
  out: (line: string) => void;
  onRecord?: (record: Record<string, unknown>) => void;
}): StackLog {
  const file = join(opts.dataDir, LOG_FILE);
  mkdirSync(join(opts.dataDir, 'logs'), { recursive: true });
  const fd = openSync(file, 'a');
  return {
    file,
    sink(line) {
      writeSync(fd, `${line}\n`);
      if (opts.format === 'json') return opts.out(line);
      const record = JSON.parse(line) as Record<string, unknown>;
      const human = prettyLine(record, { colour: opts.colour, now: opts.now });
      if (human !== undefined) opts.out(human);
      opts.onRecord?.(record);
    },
    close: () => closeSync(fd),
  };
}

/** `--data DIR` as the other commands need it, unless it is the default. */
function dataFlag(stack: LocalStack, root: string): string {
  if (stack.dataDir === join(root, '.data')) return '';
  const inside = relative(root, stack.dataDir);
  return ` --data ${inside && !inside.startsWith('..') ? inside : stack.dataDir}`;
}

export function bannerLines(
  stack: LocalStack,
  opts: {
    root: string;
    fresh: boolean;
    format: LogFormat;
    logFile: string;
    createCurl: string;
    pushEndpoint?: string;
    publicRead: boolean;
    consoleUrl?: string;
  },
): string[] {
  const data = dataFlag(stack, opts.root);
  return [
    `data:      ${stack.dataDir}${opts.fresh ? ' (fresh)' : ''}`,
    `emulator:  ${stack.emulator.url}${opts.publicRead ? ` (${DEFAULT_BUCKET} public-read)` : ''}`,
    ...rtmpLines(stack.emulator.rtmpOrigin!),
    `api:       ${stack.runtime.httpUrl ?? '(no HTTP-triggered function in s.yaml)'}`,
    ...(opts.consoleUrl ? [`console:   ${opts.consoleUrl} (one-time login link)`] : []),
    ...(stack.runtime.fcApiUrl
      ? [`fc api:    ${stack.runtime.fcApiUrl} (InvokeFunction; poll-stat reaches generate-vod through it)`]
      : []),
    `functions: ${stack.runtime.functions.map((f) => f.name).join(', ')}`,
    ...describeShellOverrides(stack.shellOverrides),
    '',
    'Create a channel (signature valid for 5 minutes):',
    `  ${opts.createCurl}`,
    '',
    'Simulate a broadcast into it (the publish URL from the answer above verifies as OSS would):',
    `  ${CLI} push cam-1 --seconds 60${opts.pushEndpoint ? ` --endpoint ${opts.pushEndpoint}` : ''} [--url '<publishUrl>']`,
    '',
    'Or push a real stream to it: ffmpeg -re -i input.mp4 -c copy -f flv "<publishUrl>"',
    '',
    `Then: ${CLI} channels${data} · ${CLI} cleanup --plan${data} · ${CLI} sign-request GET /channels${data}`,
    '',
    opts.format === 'human'
      ? `Log: one line per invocation and event (times UTC, emulator clock); full JSON in ${opts.logFile}. Ctrl-C stops.`
      : `Logs of every function follow (JSON, one stream; also in ${opts.logFile}). Ctrl-C stops.`,
    '',
  ];
}

export function stoppedLines(stack: LocalStack, logFile: string): string[] {
  return [
    `stopped: the api, ${stack.runtime.functions.length} functions and their triggers, ${stack.runtime.fcApiUrl ? 'the FC API, ' : ''}the emulator.`,
    `data kept in ${stack.dataDir} (emulator objects, ledger, api secret); log in ${logFile}. \`npm start -- --fresh\` starts over.`,
  ];
}

/** When a VOD for a push that ended at `endMs` is expected: the poll that sees the reconnect window over. */
export interface VodTiming {
  reconnectWindowSeconds: number;
  /** poll-stat's timer schedule. */
  poll: Schedule;
}

export function vodExpectedLine(channel: string, endMs: number, timing: VodTiming): string {
  // The first poll at or after end + window (+ the clock-skew allowance broadcastState applies).
  const at = timing.poll.next(endMs + timing.reconnectWindowSeconds * 1000 + DEFAULT_SKEW_TOLERANCE_MS - 1);
  return `VOD for ${channel} expected by ${clockTime(at)}: reconnect window ${timing.reconnectWindowSeconds} s + next poll`;
}

/** The stack's VOD timing from s.yaml (poll-stat's RECONNECT_WINDOW after shell overrides, its timer). */
export function vodTiming(stack: LocalStack): VodTiming | undefined {
  const poll = stack.runtime.functions.find((f) => f.name === 'poll-stat');
  const timer = poll?.triggers.find((t) => t.type === 'timer');
  if (!poll || timer?.type !== 'timer') return undefined;
  const config = loadConfig({ ...poll.environmentVariables, ...stack.shellOverrides.applied });
  return {
    reconnectWindowSeconds: config.reconnectWindowSeconds,
    poll: parseSchedule(timer.cronExpression, stack.clock.now()),
  };
}

/**
 * Notices pushes that ended since the last `check()` (the emulator's active pushes, compared) and
 * says when their VOD is expected. `livecycle start` checks a few times a second.
 */
export function pushEndWatcher(opts: {
  active: () => PushInfo[];
  now: () => number;
  timing: VodTiming;
  out: (line: string) => void;
  colour: boolean;
}): { check(): void } {
  let live = new Map<string, PushInfo>();
  return {
    check() {
      const current = new Map(opts.active().map((p) => [`${p.bucket}/${p.channel}`, p]));
      for (const [key, push] of live) {
        if (current.has(key)) continue;
        opts.out(
          `${paint(clockTime(opts.now()), 'dim', opts.colour)}  ${vodExpectedLine(push.channel, opts.now(), opts.timing)}`,
        );
      }
      live = current;
    },
  };
}

/** How to watch a VOD: `ffplay` of its URL in a public-read bucket, else what makes it playable. */
export function playCommand(emulatorUrl: string, bucket: string, key: string, publicRead: boolean): string {
  if (!publicRead) return `restart with --public-read, then ffplay "$(${CLI} play ${key.split('/')[0]} --vod ${key})"`;
  return `ffplay '${emulatorUrl}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}'`;
}

/** `--log-format`: given, or human on a terminal and JSON otherwise. */
export function logFormat(text: string | undefined, isTty = process.stdout.isTTY === true): LogFormat {
  if (text === undefined) return isTty ? 'human' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(text))
    throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')}, got ${text}`);
  return text as LogFormat;
}

/**
 * The start command's stdout: the log sink to hand bootStack (its file opens on the first line,
 * after a --fresh wipe), and `watch`, which once the stack runs stamps lines with its clock,
 * says when VODs are expected after pushes end and how to play them once ready.
 */
export function terminalOutput(opts: {
  dataDir: string;
  format: LogFormat;
  colour: boolean;
  publicRead: boolean;
  out?: (line: string) => void;
}) {
  const out = opts.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  let now = () => Date.now();
  let emulatorUrl: string | undefined;
  let log: StackLog | undefined;
  const onRecord = (record: Record<string, unknown>) => {
    if (record.msg === 'VOD ready' && emulatorUrl)
      out(
        `          play: ${playCommand(emulatorUrl, String(record.bucket), String(record.playlist), opts.publicRead)}`,
      );
  };
  const open = () =>
    (log ??= createStackLog({
      dataDir: opts.dataDir,
      format: opts.format,
      colour: opts.colour,
      now: () => now(),
      out,
      onRecord,
    }));
  return {
    sink: (line: string) => open().sink(line),
    get log(): StackLog {
      return open();
    },
    /** Starts watching `stack` for ended pushes, every `intervalMs` of real time (else only on `check()`). */
    watch(stack: LocalStack, intervalMs?: number): { check(): void; stop(): void } {
      now = () => stack.clock.now();
      emulatorUrl = stack.emulator.url;
      const timing = vodTiming(stack);
      if (!timing || opts.format !== 'human') return { check: () => {}, stop: () => {} };
      const watcher = pushEndWatcher({
        active: () => stack.emulator.ingest.active(),
        now,
        timing,
        out,
        colour: opts.colour,
      });
      const timer = intervalMs === undefined ? undefined : setInterval(() => watcher.check(), intervalMs);
      timer?.unref();
      return { check: () => watcher.check(), stop: () => clearInterval(timer) };
    },
  };
}
