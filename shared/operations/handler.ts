/**
 * The shape every function's `index.ts` shares: build the instance lazily on the first
 * invocation, then one operation per invocation.
 */
import {
  createInstance,
  createOperationContext,
  type FcContext,
  type Instance,
  type OperationContext,
} from './context';
import { metered } from './usage';

export type FcHandler<R> = (event: Buffer, context?: FcContext) => Promise<R>;

/**
 * `run` gets the raw event and the invocation's context. The instance (config, OSS client) is
 * built on the first call, not at module load: the local runtime applies each function's
 * environment only around its invocations.
 */
export function functionHandler<R>(
  name: string,
  run: (event: Buffer, ctx: OperationContext) => Promise<R>,
): FcHandler<R> {
  let instance: Instance | undefined;
  return async (event, context = {}) => {
    instance ??= createInstance(name);
    const ctx = createOperationContext(instance, context);
    return metered(instance, ctx, context, () => run(event, ctx));
  };
}
