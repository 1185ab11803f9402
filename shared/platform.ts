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
  post(path: string, body: Buffer, headers: Record<string, string>): Promise<unknown>;
}

function fcInvoker(context: InvokerContext): AsyncInvoker {
  return {
    async invokeAsync(functionName, payload) {
      const accountId = context.accountId ?? process.env.FC_ACCOUNT_ID;
      const region = context.region ?? process.env.FC_REGION;
      const creds = context.credentials ?? {
        accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '',
        accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '',
        securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN,
      };
      if (!accountId || !region) throw new Error('async invoke: FC_ACCOUNT_ID and FC_REGION (or context.accountId/region) are required');
      if (!creds.accessKeyId || !creds.accessKeySecret) throw new Error('async invoke: no credentials (context.credentials or ALIBABA_CLOUD_ACCESS_KEY_*)');
      // Loaded only here: @alicloud/fc2 is pre-installed in FC's nodejs20 runtime and marked
      // external by the build, so bundles that never invoke don't pay ~170 ms to require it.
      // require, not import(): the runtime's pre-installed modules resolve through NODE_PATH,
      // which import() ignores; esbuild keeps this call as-is in the CJS bundle.
      const FC = require('@alicloud/fc2') as new (accountId: string, cfg: object) => Fc2Client;
      const client = new FC(accountId, {
        accessKeyID: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        securityToken: creds.securityToken,
        region,
        secure: true,
        internal: true,
      });
      // FC 3.0 functions have no service, so fc2's invokeFunction(service, fn) path
      // (/2016-08-15/services/S/functions/F) does not address them. fc3 itself drives fc2
      // against 3.0 paths by switching `version` to 2023-03-30 with the same "FC" signature;
      // we do the same for POST /2023-03-30/functions/<name>/invocations. Verify once on a real
      // account (docs/deploy.md, "Checking the deployment").
      client.version = '2023-03-30';
      await client.post(`/functions/${encodeURIComponent(functionName)}/invocations`, payloadBytes(payload), {
        'x-fc-invocation-type': 'Async',
      });
    },
  };
}
