/**
 * `livecycle start`: the local stack (local/stack.ts) in the foreground, with a banner, readable
 * log lines and a summary on Ctrl-C; `--demo` runs the narrated story instead.
 */
import { join, resolve } from 'node:path';
import { DEFAULT_RTMP_PORT } from '../emulator';
import { DataDirInUseError } from '../emulator/storage/lock';
import { runDemo } from '../demo/story';
import { bootStack, consoleLoginUrl, DEFAULT_EMULATOR_URL, signedCreateChannelCurl, type LocalStack } from '../stack';
import { MAX_PORT, parseCommandLine, parseOptions, UsageError, wholeNumberOption } from './args';
import { bannerLines, logFormat, stoppedLines, terminalOutput, type LogFormat } from './start-output';
import type { Command } from './types';

const USAGE = `Usage: livecycle start [options]

Boots the OSS emulator and every function in s.yaml (built bundles in dist/; run
\`npm run build\` first — \`npm start\` does both) and serves their triggers locally.

Options:
  --data DIR            emulator data directory (default .data)
  --fresh               wipe the data directory first
  --port N              api HTTP trigger port (default 8080; 0 picks a free one)
  --emulator-port N     emulator port (default 9000)
  --rtmp-port N         RTMP ingest port for ffmpeg/OBS (default 1935; 0 picks a free one)
  --rate N              clock speed, clock ms per real ms (default 1; 60 = an hour a minute;
                        0 = frozen). Timers, reconnect windows and idle timeouts follow it
  --log-format F        human (default on a terminal): one line per invocation and event;
                        json (default otherwise): every function's JSON log lines. Either way
                        the full JSON goes to <data>/logs/livecycle.jsonl
  --public-read         anyone may read the bucket without signing (GET/HEAD/list), so players
                        open \`livecycle play\` URLs; local use only
  --demo                narrated story of one channel, creation to cleanup, on a fresh stack
                        (temporary data dir, free ports, accelerated clock); exit 0 when every
                        step was observed, 1 naming the step that was not
  --help                show this text`;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the emulator and all functions locally (timers, MNS, HTTP)',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandLine(startCommand, () =>
      parseOptions(argv, {
        options: {
          data: { type: 'string' },
          fresh: { type: 'boolean' },
          port: { type: 'string' },
          'emulator-port': { type: 'string' },
          'rtmp-port': { type: 'string' },
          rate: { type: 'string' },
          'log-format': { type: 'string' },
          demo: { type: 'boolean' },
          'public-read': { type: 'boolean' },
        },
      }),
    );
    if (parsed === undefined) return 2;
    const { values } = parsed;
    if (values.demo) {
      // The demo brings its own stack (fresh temp data dir, free ports, its own clock).
      const ignored = (
        ['data', 'fresh', 'port', 'emulator-port', 'rtmp-port', 'rate', 'log-format', 'public-read'] as const
      ).filter((k) => values[k] !== undefined);
      if (ignored.length) {
        process.stderr.write(
          `livecycle start: --demo runs its own stack; it does not take ${ignored.map((k) => `--${k}`).join(', ')}\n`,
        );
        return 2;
      }
      return runDemo({
        root: process.cwd(),
        out: (line) => void process.stdout.write(`${line}\n`),
        err: (line) => void process.stderr.write(`${line}\n`),
      });
    }
    let rate: number;
    let apiPort: number;
    let emulatorPort: number;
    let format: LogFormat;
    let rtmpPort: number;
    try {
      format = logFormat(values['log-format']);
      rate = values.rate === undefined ? 1 : Number(values.rate);
      if (!(rate >= 0) || !Number.isFinite(rate))
        throw new UsageError(`--rate must be a number >= 0, got ${values.rate}`);
      apiPort = wholeNumberOption('port', values.port, MAX_PORT, 'a port number') ?? 8080;
      emulatorPort = wholeNumberOption('emulator-port', values['emulator-port'], MAX_PORT, 'a port number') ?? 9000;
      rtmpPort = wholeNumberOption('rtmp-port', values['rtmp-port'], MAX_PORT, 'a port number') ?? DEFAULT_RTMP_PORT;
    } catch (err) {
      process.stderr.write(`livecycle start: ${(err as Error).message}\n`);
      return 2;
    }
    const root = process.cwd();
    const output = terminalOutput({
      dataDir: resolve(values.data ?? join(root, '.data')),
      format,
      colour: format === 'human' && process.stdout.isTTY === true,
      publicRead: values['public-read'] ?? false,
    });
    let stack: LocalStack;
    try {
      stack = await bootStack({
        root,
        dataDir: values.data ?? join(root, '.data'),
        fresh: values.fresh,
        apiPort,
        emulatorPort,
        rtmpPort,
        rate,
        fcApiPort: 0,
        shellEnv: process.env,
        publicRead: values['public-read'] ?? false,
        logSink: output.sink,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(
        `livecycle start: cannot start: ${e.code === 'EADDRINUSE' ? `a port is in use (${e.message}); try --port 0 --emulator-port 0 --rtmp-port 0` : e.message}\n`,
      );
      if (err instanceof DataDirInUseError && err.holder.program === 'livecycle start') {
        process.stderr.write(
          `To use it: node bin/livecycle.js channels|invoke|cleanup|sign-request --data ${err.dir} (push: --endpoint ${err.holder.urls.emulator ?? '<its emulator>'})\n`,
        );
      }
      return 1;
    }
    const apiUrl = stack.runtime.httpUrl ?? '(no HTTP-triggered function in s.yaml)';
    // Listening before the banner: a signal sent on seeing it must stop the stack (and free the lock).
    const stopRequested = new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    const createCurl = signedCreateChannelCurl(apiUrl, stack.apiSecret, stack.clock.now());
    const pushEndpoint = stack.emulator.url === DEFAULT_EMULATOR_URL ? undefined : stack.emulator.url;
    process.stderr.write(
      `${bannerLines(stack, { root, fresh: values.fresh ?? false, format, logFile: output.log.file, createCurl, pushEndpoint, publicRead: values['public-read'] ?? false, consoleUrl: consoleLoginUrl(stack) }).join('\n')}\n`,
    );
    const pushes = output.watch(stack, 250);
    await stopRequested;
    pushes.stop();
    await stack.stop();
    output.log.close();
    process.stderr.write(`\n${stoppedLines(stack, output.log.file).join('\n')}\n`);
    return 0;
  },
};
