/**
 * FC's `context` argument (reference §1.3). Credentials are STS credentials minted by the
 * emulator for the function's role, cached per runtime and renewed before they expire on the
 * clock, as FC hands each instance short-lived role credentials.
 */
import { format } from 'node:util';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock';
import { registerSecret } from '../../shared/log';
import type { FunctionSpec } from './syaml';

export interface StsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** ISO-8601 or epoch ms; when absent the credentials are treated as never expiring. */
  expiration?: string | number;
}

export type MintCredentials = () => Promise<StsCredentials>;

export interface FcContext {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
  service: { logProject: string; logStore: string; qualifier: string; versionId: string };
  region: string;
  accountId: string;
  logger: Record<'debug' | 'info' | 'warn' | 'error' | 'log', (...args: unknown[]) => void>;
}

/** Renew this long before expiry so an invocation never starts with nearly-dead credentials. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** Mints once, then again only when the cached credentials are about to expire on `clock`. */
export function credentialCache(mint: MintCredentials, clock: Clock): () => Promise<StsCredentials> {
  let cached: { creds: StsCredentials; expiresAtMs: number } | undefined;
  let pending: Promise<StsCredentials> | undefined;
  return async () => {
    if (cached && clock.now() < cached.expiresAtMs - RENEW_BEFORE_MS) return cached.creds;
    pending ??= mint()
      .then((creds) => {
        registerSecret(creds.accessKeySecret);
        registerSecret(creds.securityToken);
        const exp =
          creds.expiration === undefined
            ? Infinity
            : typeof creds.expiration === 'number'
              ? creds.expiration
              : Date.parse(creds.expiration);
        cached = { creds, expiresAtMs: Number.isNaN(exp) ? Infinity : exp };
        return creds;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

export function createContext(opts: {
  fn: FunctionSpec;
  requestId: string;
  credentials: StsCredentials;
  accountId: string;
  /** The invocation's logger (already bound to fn and requestId). */
  logger: Logger;
}): FcContext {
  const { fn, credentials, logger } = opts;
  // FC's context.logger is console-like (format strings, several arguments); lines land in the
  // same stream as pino's, tagged the same way.
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level](format(...args));
  return {
    requestId: opts.requestId,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      securityToken: credentials.securityToken,
    },
    function: { name: fn.functionName, handler: fn.handler, memory: fn.memorySize, timeout: fn.timeout },
    service: { logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
    region: fn.region,
    accountId: opts.accountId,
    logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), log: line('info') },
  };
}
