/**
 * Where access keys come from. A provider is asked before every request, so rotated STS keys
 * (FC hands out fresh ones per invocation) are picked up without rebuilding the client. Every
 * secret a provider returns is registered with the logger so it is masked if it ever leaks into
 * a log line.
 */
import { registerSecret } from '../log';
import type { SigningCredentials } from './signer';
import { OssValidationError } from './errors';

export type Credentials = SigningCredentials;

export interface CredentialsProvider {
  getCredentials(): Promise<Credentials>;
}

function checked(source: string, c: Partial<Credentials> | undefined): Credentials {
  if (!c?.accessKeyId) throw new OssValidationError('credentials.accessKeyId', `missing from ${source}`);
  if (!c.accessKeySecret) throw new OssValidationError('credentials.accessKeySecret', `missing from ${source}`);
  registerSecret(c.accessKeySecret);
  registerSecret(c.securityToken);
  return c.securityToken
    ? { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken }
    : { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret };
}

/** Fixed keys (local emulator, tests, long-lived RAM user keys). */
export function staticCredentials(credentials: Credentials): CredentialsProvider {
  const value = checked('static credentials', credentials);
  return { getCredentials: async () => value };
}

/**
 * `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` (what FC sets for the
 * function role), else `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` (/ `OSS_SESSION_TOKEN`, the
 * ossutil/SDK convention). Read on every call: the environment is the source of truth.
 */
export function envCredentials(env: NodeJS.ProcessEnv = process.env): CredentialsProvider {
  return {
    getCredentials: async () => {
      if (env.ALIBABA_CLOUD_ACCESS_KEY_ID) {
        return checked('ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET', {
          accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
          accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
          securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
        });
      }
      if (env.OSS_ACCESS_KEY_ID) {
        return checked('OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET', {
          accessKeyId: env.OSS_ACCESS_KEY_ID,
          accessKeySecret: env.OSS_ACCESS_KEY_SECRET,
          securityToken: env.OSS_SESSION_TOKEN,
        });
      }
      throw new OssValidationError(
        'credentials',
        'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET)',
      );
    },
  };
}

/** The shape of FC's `context.credentials` (STS keys of the function's role). */
export interface FcContextLike {
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
}

/** STS keys from this invocation's FC context; build one per invocation (they rotate). */
export function fcContextCredentials(context: FcContextLike): CredentialsProvider {
  const value = checked('FC context.credentials (is a role configured on the function?)', context.credentials);
  return { getCredentials: async () => value };
}
