/**
 * Which function instance and invocation the current code runs for. All functions share one
 * Node process locally, so two things FC keeps per instance are carried by AsyncLocalStorage:
 * the environment (each function sees only its own variables through `process.env`, as on FC)
 * and the log tags (`fn`, `requestId`) that the log stream adds to lines written without them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface InvocationScope {
  /** Short function name, e.g. `poll-stat`. */
  fn: string;
  /** Set while an invocation runs; absent while a bundle's module code loads. */
  requestId?: string;
  /** The function instance's complete environment. */
  env: Record<string, string>;
}

export const scopes = new AsyncLocalStorage<InvocationScope>();

/** Host variables a function still sees (FC instances have them too, with their own values). */
const PASSTHROUGH = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'NODE_OPTIONS', 'NODE_PATH'];

const INSTALLED = Symbol.for('livecycle.runtime.envProxy');
type ProcessWithMarker = NodeJS.Process & { [INSTALLED]?: true };

/**
 * Replaces `process.env` with a view that, inside a function scope, shows that function's
 * variables (plus PASSTHROUGH from the host) and nothing else, so a variable missing from s.yaml
 * fails locally as it would deployed. Outside any scope it is the host environment. Idempotent.
 */
export function installEnvIsolation(): void {
  const proc = process as ProcessWithMarker;
  if (proc[INSTALLED]) return;
  const host = process.env;
  const view = (): Record<string, string | undefined> | undefined => scopes.getStore()?.env;
  const visible = (env: Record<string, string | undefined>, key: string) =>
    key in env || (PASSTHROUGH.includes(key) && key in host);
  process.env = new Proxy(host, {
    get(target, key) {
      const env = view();
      if (!env || typeof key !== 'string') return Reflect.get(target, key);
      return key in env ? env[key] : PASSTHROUGH.includes(key) ? target[key] : undefined;
    },
    set(target, key, value) {
      const env = view();
      if (env && typeof key === 'string') env[key] = String(value);
      else Reflect.set(target, key, String(value));
      return true;
    },
    deleteProperty(target, key) {
      const env = view();
      if (env && typeof key === 'string') delete env[key];
      else Reflect.deleteProperty(target, key);
      return true;
    },
    has(target, key) {
      const env = view();
      return env && typeof key === 'string' ? visible(env, key) : Reflect.has(target, key);
    },
    ownKeys(target) {
      const env = view();
      if (!env) return Reflect.ownKeys(target);
      return [...new Set([...Object.keys(env), ...PASSTHROUGH.filter((k) => k in host)])];
    },
    getOwnPropertyDescriptor(target, key) {
      const env = view();
      if (!env || typeof key !== 'string') return Reflect.getOwnPropertyDescriptor(target, key);
      if (!visible(env, key)) return undefined;
      return { value: key in env ? env[key] : host[key], writable: true, enumerable: true, configurable: true };
    },
  });
  proc[INSTALLED] = true;
}
