/**
 * Seeded fault injection. Each rule names an operation (`Operation.name`, or `*`), a rate in
 * [0, 1] and a kind; for every request the matching rules are rolled in order with a PRNG seeded
 * by `set()`, so the same requests in the same order meet the same faults.
 */

export const FAULT_KINDS = ['internal-error', 'throttle', 'reset', 'stall', 'truncate', 'latency'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  /** OSS operation name (e.g. 'GetLiveChannelStat', 'PutObject') or '*'. */
  operation: string;
  /** Probability per request, 0..1. */
  rate: number;
  kind: FaultKind;
  /**
   * stall: real milliseconds to hold the request before resetting the connection (default
   * 30000); latency: real milliseconds added before the operation runs (default 100).
   */
  ms?: number;
  /**
   * throttle: error code; default MetaOperationQpsLimitExceeded for LiveChannel operations, else ServiceUnavailable.
   */
  code?: string;
}

/** What the server must do to one request. */
export interface FaultDecision {
  /** Real milliseconds to wait before handling (sum of the latency rules that fired). */
  delayMs: number;
  /** The first non-latency fault that fired. */
  fault?: Exclude<FaultKind, 'latency'>;
  stallMs: number;
  throttleCode: string;
}

const DEFAULT_STALL_MS = 30_000;
const DEFAULT_LATENCY_MS = 100;
const LIVE_CHANNEL_OPERATION = /LiveChannel|VodPlaylist/;

/** mulberry32: tiny, fast, good enough to make fault runs repeatable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks an untrusted rule (admin API, CLI); throws a RangeError naming the problem. */
export function validateFaultRule(value: unknown): FaultRule {
  const r = value as Partial<FaultRule> | null;
  if (!r || typeof r !== 'object') throw new RangeError('a fault rule must be an object');
  if (typeof r.operation !== 'string' || !r.operation)
    throw new RangeError('fault rule: operation must be an operation name or *');
  if (typeof r.rate !== 'number' || !(r.rate >= 0 && r.rate <= 1))
    throw new RangeError('fault rule: rate must be a number in [0, 1]');
  if (!FAULT_KINDS.includes(r.kind as FaultKind))
    throw new RangeError(`fault rule: kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (r.ms !== undefined && !(Number.isInteger(r.ms) && r.ms >= 0))
    throw new RangeError('fault rule: ms must be an integer >= 0');
  if (r.code !== undefined && (typeof r.code !== 'string' || !/^[A-Za-z]+$/.test(r.code)))
    throw new RangeError('fault rule: code must be letters only');
  return { operation: r.operation, rate: r.rate, kind: r.kind as FaultKind, ms: r.ms, code: r.code };
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private seed = 0;
  private random = mulberry32(0);

  constructor(seed = 0) {
    this.set([], seed);
  }

  /** Replaces the rules and restarts the PRNG from `seed` (the previous seed when omitted). */
  set(rules: readonly FaultRule[], seed = this.seed): void {
    this.rules = rules.map(validateFaultRule);
    this.seed = seed >>> 0;
    this.random = mulberry32(this.seed);
  }

  get(): { rules: FaultRule[]; seed: number } {
    return { rules: this.rules.map((r) => ({ ...r })), seed: this.seed };
  }

  decide(operation: string): FaultDecision {
    const decision: FaultDecision = {
      delayMs: 0,
      stallMs: DEFAULT_STALL_MS,
      throttleCode: LIVE_CHANNEL_OPERATION.test(operation) ? 'MetaOperationQpsLimitExceeded' : 'ServiceUnavailable',
    };
    for (const rule of this.rules) {
      if (rule.operation !== '*' && rule.operation !== operation) continue;
      if (rule.rate <= 0 || this.random() >= rule.rate) continue;
      if (rule.kind === 'latency') {
        decision.delayMs += rule.ms ?? DEFAULT_LATENCY_MS;
      } else if (!decision.fault) {
        decision.fault = rule.kind;
        if (rule.kind === 'stall') decision.stallMs = rule.ms ?? DEFAULT_STALL_MS;
        if (rule.kind === 'throttle' && rule.code) decision.throttleCode = rule.code;
      }
    }
    return decision;
  }
}

/**
 * `OP:RATE:KIND[:MS]` from the CLI, e.g. `PutObject:0.2:reset`, `*:0.05:503`, `*:1:latency:50`.
 * `500` and `503` are accepted for internal-error and throttle.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const parts = spec.split(':');
  if (parts.length < 3 || parts.length > 4) throw new RangeError(`--fault ${spec}: expected OP:RATE:KIND[:MS]`);
  const [operation, rateText, kindText, msText] = parts as [string, string, string, string | undefined];
  const kind = kindText === '500' ? 'internal-error' : kindText === '503' ? 'throttle' : kindText;
  const rate = Number(rateText);
  const ms = msText === undefined ? undefined : Number(msText);
  try {
    return validateFaultRule({ operation, rate: rateText.trim() === '' ? NaN : rate, kind, ms });
  } catch (err) {
    throw new RangeError(`--fault ${spec}: ${(err as Error).message}`);
  }
}
