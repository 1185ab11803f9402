/**
 * `livecycle sign-request <METHOD> <PATH>`: a ready-to-paste curl for the livecycle api, signed
 * with shared/api/auth.ts's `signApiRequest`. The secret is read from the local stack's data
 * directory or from an environment variable — never from the command line, where it would land
 * in shell history and process lists — and is never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPLAY_WINDOW_SECONDS, signApiRequest } from '../../shared/api/auth';
import { parseCommandLine, parseOptions, UsageError } from './args';
import { API_SECRET_FILE, attachToStack } from '../stack';
import type { Command } from './types';

const METHODS = ['GET', 'POST', 'DELETE'];

const USAGE = `Usage: livecycle sign-request <METHOD> <PATH> [options]

Prints a curl command for the livecycle api with X-Livecycle-Timestamp and
X-Livecycle-Signature (docs/api.md). METHOD is GET, POST or DELETE; PATH starts with / and may
carry a query (/channels?limit=50), which is signed too. The signature is valid for
${REPLAY_WINDOW_SECONDS} s around its timestamp and accepted once (replay protection).

Options:
  --body JSON        request body (a JSON object; sent as application/json)
  --secret-env VAR   read the HMAC secret from environment variable VAR (e.g. for a deployed
                     api: LIVECYCLE_API_SECRETS' first entry); default: the local stack's
                     <data>/${API_SECRET_FILE}
  --url URL          api base URL (default: the running local stack's api)
  --data DIR         data directory of the local stack (default .data)
  --help             show this text

The secret is never taken from the command line and never printed.
Exit codes: 0 printed, 1 no secret or no api URL found, 2 usage error.`;

/** One shell word, single-quoted. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function parse(argv: string[]) {
  if (argv.some((a) => a === '--secret' || a.startsWith('--secret=')))
    throw new UsageError(
      'the secret is never taken from the command line (shell history, process lists); use --secret-env VAR',
    );
  const { values, positionals } = parseOptions(argv, {
    allowPositionals: true,
    options: {
      body: { type: 'string' },
      'secret-env': { type: 'string' },
      url: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`expected <METHOD> <PATH>, got ${positionals.length} argument(s)`);
  const method = positionals[0]!.toUpperCase();
  if (!METHODS.includes(method))
    throw new UsageError(`METHOD must be one of ${METHODS.join(', ')}, got ${positionals[0]}`);
  const target = positionals[1]!;
  if (!target.startsWith('/')) throw new UsageError(`PATH must start with /, got ${target}`);
  const url = new URL(target, 'http://placeholder');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new UsageError(`PATH has malformed percent-encoding: ${target}`);
  }
  // FC hands a repeated parameter to the function comma-joined; sign it the way it will arrive.
  const query: Record<string, string> = {};
  for (const name of new Set(url.searchParams.keys())) query[name] = url.searchParams.getAll(name).join(',');
  if (values.body !== undefined) {
    if (method === 'GET') throw new UsageError('a GET request takes no --body');
    let body: unknown;
    try {
      body = JSON.parse(values.body);
    } catch (err) {
      throw new UsageError(`--body is not JSON: ${(err as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new UsageError('--body must be a JSON object');
  }
  if (values.url !== undefined && !/^https?:\/\//.test(values.url))
    throw new UsageError(`--url must be an http(s) URL, got ${values.url}`);
  if (values['secret-env'] !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(values['secret-env']))
    throw new UsageError(`--secret-env takes a variable name, got ${values['secret-env']}`);
  return {
    method,
    path,
    query,
    sentPath: `${url.pathname}${url.search}`,
    body: values.body,
    secretEnv: values['secret-env'],
    url: values.url,
    data: values.data,
  };
}

export const signRequestCommand: Command = {
  name: 'sign-request',
  summary: 'print a signed curl for the livecycle api (secret from the stack or an env var)',
  usage: USAGE,
  async run(argv) {
    const args = parseCommandLine(signRequestCommand, () => parse(argv));
    if (args === undefined) return 2;
    const dataDir = args.data ?? join(process.cwd(), '.data');
    let secret: string;
    if (args.secretEnv !== undefined) {
      secret = process.env[args.secretEnv]?.trim() ?? '';
      if (!secret) {
        process.stderr.write(`livecycle sign-request: environment variable ${args.secretEnv} is not set or empty\n`);
        return 1;
      }
    } else {
      const file = join(dataDir, API_SECRET_FILE);
      if (!existsSync(file)) {
        process.stderr.write(
          `livecycle sign-request: no local api secret at ${file}; start the stack (\`npm start\`) or pass --secret-env VAR\n`,
        );
        return 1;
      }
      secret = readFileSync(file, 'utf8').trim();
    }
    // Against the local stack, sign on its clock (it may run faster than real time).
    let attached;
    try {
      attached = args.url === undefined ? await attachToStack(dataDir) : undefined;
    } catch (err) {
      process.stderr.write(`livecycle sign-request: ${(err as Error).message}\n`);
      return 1;
    }
    const apiUrl = args.url ?? attached?.stack.apiUrl;
    if (apiUrl === undefined) {
      process.stderr.write(
        `livecycle sign-request: no running stack in ${dataDir} to send to; start one or pass --url\n`,
      );
      return 1;
    }
    const now = attached?.clock.now() ?? Date.now();
    const headers = signApiRequest({
      method: args.method,
      path: args.path,
      query: args.query,
      body: args.body ?? '',
      secret,
      now,
    });
    const parts = ['curl', '-sS', '-X', args.method, shellQuote(`${apiUrl.replace(/\/+$/, '')}${args.sentPath}`)];
    for (const [name, value] of Object.entries(headers)) parts.push('-H', shellQuote(`${name}: ${value}`));
    if (args.body !== undefined)
      parts.push('-H', shellQuote('Content-Type: application/json'), '--data', shellQuote(args.body));
    process.stdout.write(`${parts.join(' ')}\n`);
    process.stderr.write(`signed at ${new Date(now).toISOString()}; valid for ${REPLAY_WINDOW_SECONDS} s, once\n`);
    return 0;
  },
};
