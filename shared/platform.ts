/**
 * The seam through which a function asynchronously invokes another function (poll-stat →
 * generate-vod). Deployed, that is FC's InvokeFunction with `x-fc-invocation-type: Async`; the
 * local runtime installs an in-process invoker instead. Like the clock, the installed invoker
 * lives in the global symbol registry because every function bundle has its own copy of this
 * module. Keep this file small: it is bundled into each function that uses it.
 */
export interface AsyncInvoker {
  /** Resolves once the invocation is queued (FC answers 202); the callee runs later. */
  invokeAsync(functionName: string, payload: unknown): Promise<void>;
}

/** What the default invoker needs from FC's context; pass the handler's `context`. */
export interface InvokerContext {
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  region?: string;
  accountId?: string;
}

const INVOKER = Symbol.for('livecycle.platform.invoker');
type InvokerHolder = { [INVOKER]?: AsyncInvoker };

/** Installs the process-wide invoker (the local runtime does); `undefined` removes it. */
export function installInvoker(invoker: AsyncInvoker | undefined): void {
  (globalThis as InvokerHolder)[INVOKER] = invoker;
}

/** The installed invoker, or FC's InvokeFunction API signed with the context's STS credentials. */
export function currentInvoker(context: InvokerContext = {}): AsyncInvoker {
  return (globalThis as InvokerHolder)[INVOKER] ?? fcInvoker(context);
}

/** Converts a payload into the bytes FC delivers as `event`: Buffers and strings as-is, else JSON. */
export function payloadBytes(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload ?? null));
}

interface Fc2Client {
  version: string;
  post(
    path: string,
    body: Buffer,
    headers: Record<string, string>,
  ): Promise<{ headers: Record<string, string | undefined>; data: unknown }>;
}

/** Where and as whom to call FC's InvokeFunction. */
export interface FcTarget {
  accountId: string;
  region: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /**
   * Full base URL (the local runtime's FC API); default FC's `<account>.<region>[-internal].fc.aliyuncs.com` over
   * https.
   */
  endpoint?: string;
  /** Use the in-region internal endpoint (from inside FC). */
  internal?: boolean;
}

/**
 * InvokeFunction (POST /2023-03-30/functions/<name>/invocations) through @alicloud/fc2, signed with
 * its "FC" signature. Resolves with FC's answer; rejects with fc2's error (FC's ErrorCode in `code`).
 */
export async function invokeFunction(
  target: FcTarget,
  functionName: string,
  payload: unknown,
  type: 'Sync' | 'Async',
): Promise<{ headers: Record<string, string | undefined>; data: unknown }> {
  // Loaded only here: @alicloud/fc2 is pre-installed in FC's nodejs20 runtime and marked
  // external by the build, so bundles that never invoke don't pay ~170 ms to require it.
  // require, not import(): the runtime's pre-installed modules resolve through NODE_PATH,
  // which import() ignores; esbuild keeps this call as-is in the CJS bundle.
  const FC = require('@alicloud/fc2') as new (accountId: string, cfg: object) => Fc2Client;
  const { credentials } = target;
  const client = new FC(target.accountId, {
    accessKeyID: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    region: target.region,
    secure: true,
    internal: target.internal ?? false,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
  });
  // FC 3.0 functions have no service, so fc2's invokeFunction(service, fn) path
  // (/2016-08-15/services/S/functions/F) does not address them. fc3 itself drives fc2
  // against 3.0 paths by switching `version` to 2023-03-30 with the same "FC" signature;
  // we do the same. The local runtime serves this path and verifies that signature
  // (local/runtime/fc-api.ts); verify once on a real account (docs/deploy.md, "Checking the deployment").
  client.version = '2023-03-30';
  return client.post(`/functions/${encodeURIComponent(functionName)}/invocations`, payloadBytes(payload), {
    'x-fc-invocation-type': type,
  });
}

function fcInvoker(context: InvokerContext): AsyncInvoker {
  return {
    async invokeAsync(functionName, payload) {
      const accountId = context.accountId ?? process.env.FC_ACCOUNT_ID;
      const region = context.region ?? process.env.FC_REGION;
      const credentials = context.credentials ?? {
        accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '',
        accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '',
        securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN,
      };
      if (!accountId || !region)
        throw new Error('async invoke: FC_ACCOUNT_ID and FC_REGION (or context.accountId/region) are required');
      if (!credentials.accessKeyId || !credentials.accessKeySecret)
        throw new Error('async invoke: no credentials (context.credentials or ALIBABA_CLOUD_ACCESS_KEY_*)');
      // LIVECYCLE_FC_ENDPOINT is set only by the local runtime (its FC API); deployed, FC's internal endpoint.
      const endpoint = process.env.LIVECYCLE_FC_ENDPOINT || undefined;
      await invokeFunction(
        { accountId, region, credentials, endpoint, internal: true },
        functionName,
        payload,
        'Async',
      );
    },
  };
}
