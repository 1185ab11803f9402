import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Field paths whose values never reach a log line. Secrets are also scrubbed by value (see
 * `registerSecret`) because a secret can hide inside a URL or a message string.
 */
const REDACT_PATHS = [
  'accessKeySecret',
  'securityToken',
  'secret',
  'secrets',
  'token',
  'password',
  'authorization',
  'Authorization',
  'signature',
  'Signature',
  '*.accessKeySecret',
  '*.securityToken',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.signature',
  '*.Signature',
  'headers.authorization',
  'headers["x-oss-security-token"]',
  'headers["x-livecycle-signature"]',
  '*.headers.authorization',
  '*.headers["x-oss-security-token"]',
  'credentials',
  '*.credentials',
];

const SECRETS = Symbol.for('livecycle.log.secrets');
type SecretHolder = { [SECRETS]?: Set<string> };

function secretSet(): Set<string> {
  const holder = globalThis as SecretHolder;
  return (holder[SECRETS] ??= new Set());
}

/** Registers a secret value (key secret, token, shared secret) to be masked wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secretSet().add(value);
}

/** Replaces every registered secret inside `text` with `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secretSet()) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  return out;
}

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { type: value.name, message: scrubSecrets(value.message), stack: value.stack && scrubSecrets(value.stack) };
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1);
  return out;
}

export const LOG_DESTINATION = Symbol.for('livecycle.log.destination');
type DestinationHolder = { [LOG_DESTINATION]?: DestinationStream };

/**
 * Installs the process-wide log destination and returns a function restoring the previous one.
 * The local runtime does this so the lines of every function bundle (each with its own copy of
 * this module) land in one tagged stream.
 */
export function installLogDestination(destination: DestinationStream | undefined): () => void {
  const holder = globalThis as DestinationHolder;
  const previous = holder[LOG_DESTINATION];
  holder[LOG_DESTINATION] = destination;
  return () => {
    holder[LOG_DESTINATION] = previous;
  };
}

export interface LoggerOptions {
  /** Function or component name, bound as `fn`. */
  name: string;
  level?: string;
  /** Where lines go; the installed destination, else stdout (FC ships stdout to SLS). */
  destination?: DestinationStream;
}

/** The one logger factory: JSON lines, secrets redacted by path and by value. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { fn: opts.name },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: {
        log: (obj) => (secretSet().size ? (scrubValue(obj) as Record<string, unknown>) : obj),
      },
      hooks: {
        logMethod(args, method) {
          if (secretSet().size) args = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as typeof args;
          method.apply(this, args);
        },
      },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination ?? (globalThis as DestinationHolder)[LOG_DESTINATION],
  );
}

/** A child logger for one invocation: every line carries FC's request id. */
export function invocationLogger(base: Logger, requestId: string): Logger {
  return base.child({ requestId });
}
