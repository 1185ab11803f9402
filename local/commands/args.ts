/**
 * Command-line handling shared by the `livecycle` commands: node:util `parseArgs` (strict) whose
 * complaints become UsageErrors, whole-number options, `--endpoint`, and the usage-error report
 * every command but `push` gives: `livecycle <name>: <message>`, a blank line and the command's usage on
 * stderr, exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command } from './types';

/** The command line is wrong; the command exits 2. */
export class UsageError extends Error {}

/** `parseArgs` over `argv`, strict (unknown options are errors); what it rejects is thrown as a UsageError. */
export function parseOptions<T extends Omit<ParseArgsConfig, 'args' | 'strict'>>(argv: string[], config: T) {
  try {
    return parseArgs<T & { strict: true }>({ ...config, args: argv, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Runs `parse` (the command's reading of its command line). When it throws, whatever the error,
 * writes `livecycle <name>: <message>`, a blank line and the command's usage to stderr and
 * returns undefined: the command then exits 2.
 */
export function parseCommandLine<R>(command: Pick<Command, 'name' | 'usage'>, parse: () => R): R | undefined {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`livecycle ${command.name}: ${(err as Error).message}\n\n${command.usage}\n`);
    return undefined;
  }
}

/**
 * `--<name>`'s value as a whole number (digits only) of at most `max`; undefined when the option
 * was not given. Anything else is a UsageError `--<name> must be <what>, got <text>`.
 */
export function wholeNumberOption(
  name: string,
  text: string | undefined,
  max = Infinity,
  what = `an integer in [0, ${max}]`,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max) throw new UsageError(`--${name} must be ${what}, got ${text}`);
  return n;
}

/** The highest TCP port, for `wholeNumberOption(name, text, MAX_PORT, …)`. */
export const MAX_PORT = 65535;

/** `--endpoint`'s value as an http(s) origin (`fallback` when absent); anything else is a UsageError. */
export function endpointOption(text: string | undefined, fallback: string): string {
  let endpoint: URL;
  try {
    endpoint = new URL(text ?? fallback);
  } catch {
    throw new UsageError(`--endpoint must be a URL such as ${fallback}, got ${text}`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')
    throw new UsageError('--endpoint must be an http:// or https:// URL');
  return endpoint.origin;
}

/** The one `<channel>` positional of `push` and `play`; none or several is a UsageError. */
export function channelArgument(positionals: string[]): string {
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'missing <channel>' : `one channel expected, got ${positionals.join(' ')}`,
    );
  return positionals[0]!;
}
