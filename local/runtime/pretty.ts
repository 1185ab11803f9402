/**
 * Human lines from the local stack's JSON log records (pino's shape: `level`, `msg`, `fn`, …),
 * formatted in-line as each record is written: no pino-pretty, no transport thread. One line per
 * finished invocation (time, function, trigger, outcome, duration), one per warning or error
 * (highlighted), and one per VOD made ready. Everything else stays in the JSON log file.
 */

export interface PrettyOptions {
  /** ANSI colours (only when the output is a terminal). */
  colour: boolean;
  /** The stack's clock: lines carry emulator time, which is what the data says. */
  now: () => number;
}

const PINO_WARN = 40;
const PINO_ERROR = 50;
const FN_WIDTH = 13;
const TRIGGER_WIDTH = 26;

const COLOURS = { red: 31, green: 32, yellow: 33, dim: 2 } as const;
type Colour = keyof typeof COLOURS;

/** `HH:MM:SS` UTC of `ms`. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function paint(text: string, colour: Colour, on: boolean): string {
  return on ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

/** The human line for one log record, or undefined when it has none. */
export function prettyLine(record: Record<string, unknown>, opts: PrettyOptions): string | undefined {
  const time = paint(clockTime(opts.now()), 'dim', opts.colour);
  const fn = str(record.fn).padEnd(FN_WIDTH);
  const msg = str(record.msg);
  const level = typeof record.level === 'number' ? record.level : 30;
  if (msg.startsWith('FC Invoke End')) {
    const ok = record.status === 'succeeded';
    const outcome = ok
      ? paint('ok', 'green', opts.colour)
      : paint(`FAILED ${str(record.errorType)}`, 'red', opts.colour);
    return `${time}  ${fn} ${str(record.trigger).padEnd(TRIGGER_WIDTH)} ${outcome}  ${str(record.durationMs)} ms`;
  }
  if (msg === 'VOD ready')
    return `${time}  ${paint(`VOD for ${str(record.channel)} ready: ${str(record.playlist)}`, 'green', opts.colour)}`;
  if (level < PINO_WARN) return undefined;
  const err = record.err as { message?: unknown } | undefined;
  const detail = [record.channel && `channel ${str(record.channel)}`, err?.message && str(err.message)]
    .filter(Boolean)
    .join(': ');
  const label = level >= PINO_ERROR ? paint('ERROR', 'red', opts.colour) : paint('WARN ', 'yellow', opts.colour);
  return `${time}  ${fn} ${label} ${msg}${detail ? ` (${detail})` : ''}`;
}
