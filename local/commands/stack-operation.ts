/**
 * Running one of the functions' operations from the CLI against the running local stack: the
 * function's own s.yaml settings pointed at the stack's emulator, on the stack's clock, with the
 * function's log lines on stderr. `livecycle cleanup --plan`, `cost` and `drift` use it.
 */
import { join } from 'node:path';
import { installClock } from '../../shared/clock';
import { createInstance, createOperationContext, type OperationContext } from '../../shared/operations/context';
import { createLogStream, installLogDestination } from '../runtime/logstream';
import { loadSYaml } from '../runtime/syaml';
import { attachToStack } from '../stack';

/** No `livecycle start` runs on the data directory. */
export class NoStackError extends Error {
  constructor(readonly dataDir: string) {
    super(`no running stack in ${dataDir}; start one with \`npm start\` (or \`livecycle start\`)`);
  }
}

export interface StackOperationOptions {
  dataDir: string;
  /** The s.yaml function whose settings apply, e.g. `cleanup-orphans`. */
  fn: string;
  /** Over the function's settings (api secrets are always blanked: the CLI is not the api). */
  env?: Record<string, string>;
  /** The invocation's request id (also cleanup's run id) is `<requestIdPrefix>-<stack clock ms>`. */
  requestIdPrefix: string;
}

/** Runs `run` with an operation context of `fn` on the stack at `dataDir`; NoStackError when there is none. */
export async function runOnStack<T>(
  opts: StackOperationOptions,
  run: (ctx: OperationContext, stack: { emulatorUrl: string; buckets: string[] }) => Promise<T>,
): Promise<T> {
  const attached = await attachToStack(opts.dataDir);
  if (!attached) throw new NoStackError(opts.dataDir);
  const { stack, credentials, clock } = attached;
  const root = process.cwd();
  const fn = loadSYaml(join(root, 's.yaml')).functions.find((f) => f.name === opts.fn);
  if (!fn) throw new Error(`s.yaml in ${root} declares no ${opts.fn} function`);
  const env = {
    ...fn.environmentVariables,
    OSS_ENDPOINT: stack.emulatorUrl,
    OSS_REGION: stack.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: stack.buckets.join(','),
    API_SECRETS: '',
    API_TOKEN: '',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  installClock(clock);
  const restoreLog = installLogDestination(createLogStream((line) => void process.stderr.write(`${line}\n`)));
  try {
    const instance = createInstance(opts.fn, env);
    const ctx = createOperationContext(
      instance,
      { credentials, function: { name: opts.fn, timeout: fn.timeout } },
      `${opts.requestIdPrefix}-${clock.now()}`,
    );
    return await run(ctx, stack);
  } finally {
    restoreLog();
    installClock(undefined);
  }
}
