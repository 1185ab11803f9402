import type { ControlledClock } from '../../shared/clock';
import { validateFaultRule, type FaultInjector } from './faults';
import type { StsIssuer } from './sts';
import type { InMemoryTopicHub } from './topics';
import { AdminError, type AdminRoute } from './types';

interface CoreAdminDeps {
  clock: ControlledClock;
  faults: FaultInjector;
  sts: StsIssuer;
  topics: InMemoryTopicHub;
  buckets: ReadonlySet<string>;
  region: string;
}

function object(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new AdminError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function clockState(clock: ControlledClock) {
  const now = clock.now();
  return { now, iso: new Date(now).toISOString(), rate: clock.rate };
}

/** Wraps the RangeErrors thrown by validators as 400s. */
function badRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw new AdminError(400, err.message);
    throw err;
  }
}

/** The emulator's own admin calls under /_emulator (documented in docs/emulator.md). */
export function coreAdminRoutes(deps: CoreAdminDeps): AdminRoute[] {
  const { clock, faults, sts, topics } = deps;
  return [
    {
      method: 'GET',
      path: '/health',
      handle: async () => ({ ok: true, region: deps.region, buckets: [...deps.buckets], clock: clockState(clock) }),
    },
    { method: 'GET', path: '/clock', handle: async () => clockState(clock) },
    {
      method: 'POST',
      path: '/clock',
      async handle(body) {
        const { set, advance, rate } = object(body);
        if (set === undefined && advance === undefined && rate === undefined)
          throw new AdminError(400, 'give at least one of set, advance, rate');
        if (set !== undefined) {
          const ms = typeof set === 'string' ? Date.parse(set) : set;
          if (typeof ms !== 'number' || !Number.isFinite(ms))
            throw new AdminError(400, 'set must be epoch milliseconds or an ISO 8601 time');
          await clock.set(ms);
        }
        if (advance !== undefined) {
          if (typeof advance !== 'number' || !(advance >= 0))
            throw new AdminError(400, 'advance must be milliseconds >= 0');
          await clock.advance(advance);
        }
        if (rate !== undefined) {
          if (typeof rate !== 'number') throw new AdminError(400, 'rate must be a number >= 0');
          badRequest(() => clock.setRate(rate));
        }
        return clockState(clock);
      },
    },
    {
      method: 'POST',
      path: '/sts',
      async handle(body) {
        const { ttlSeconds = 3600 } = object(body);
        return badRequest(() => sts.mint(ttlSeconds as number));
      },
    },
    { method: 'GET', path: '/faults', handle: async () => faults.get() },
    {
      method: 'PUT',
      path: '/faults',
      async handle(body) {
        const { rules = [], seed } = object(body);
        if (!Array.isArray(rules)) throw new AdminError(400, 'rules must be an array');
        if (seed !== undefined && !(Number.isInteger(seed) && (seed as number) >= 0))
          throw new AdminError(400, 'seed must be an integer >= 0');
        badRequest(() => faults.set(rules.map(validateFaultRule), seed as number | undefined));
        return faults.get();
      },
    },
    {
      method: 'POST',
      path: '/topics/publish',
      async handle(body) {
        const { topic, body: messageBody, attributes } = object(body);
        if (typeof topic !== 'string' || !topic) throw new AdminError(400, 'topic must be a non-empty string');
        if (typeof messageBody !== 'string') throw new AdminError(400, 'body must be a string');
        if (
          attributes !== undefined &&
          (typeof attributes !== 'object' ||
            attributes === null ||
            Object.values(attributes).some((v) => typeof v !== 'string'))
        ) {
          throw new AdminError(400, 'attributes must be an object of strings');
        }
        return topics.publish(topic, messageBody, attributes as Record<string, string> | undefined);
      },
    },
    { method: 'GET', path: '/topics', handle: async () => topics.stats() },
  ];
}
