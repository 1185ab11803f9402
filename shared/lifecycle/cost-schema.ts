/**
 * The cost and drift reports' schemas (docs/cost.md): the report types (`CostReport`,
 * `ChannelCost`, shared/operations/cost.ts; `DriftReport`, shared/operations/drift.ts; `PriceTable`, `DriftItem`) are inferred
 * from them, and openapi.json describes GET /cost, GET /channels/{name}/cost and GET /drift with
 * them. The operations import only the types, so no bundle carries these schemas.
 */
import * as v from 'valibot';

const count = v.number();
const cny = v.number();
const amount = v.strictObject({ objects: count, bytes: count });

export const PRICE_TABLE = v.strictObject({
  source: v.string(),
  asOf: v.string(),
  region: v.string(),
  storageGbMonth: v.pipe(cny, v.description('Standard (LRS) storage per GB-month.')),
  putPer10k: v.pipe(cny, v.description('PUT-class requests per 10,000.')),
  getPer10k: v.pipe(cny, v.description('GET-class requests per 10,000.')),
  fcInvocationsPer10k: v.pipe(cny, v.description('Function Compute invocations per 10,000.')),
  fcGbSecond: v.pipe(cny, v.description('Function Compute memory per GB-second.')),
  fcVcpuSecond: v.pipe(cny, v.description('Function Compute active vCPU per vCPU-second.')),
  vcpuPerGb: v.pipe(
    v.number(),
    v.description('vCPUs per GB of memory the functions run with (FC 3.0 default: 0.35 vCPU for 512 MB).'),
  ),
});

const cnyBreakdown = { storage: cny, requests: cny, compute: cny, total: cny };

export const CHANNEL_COST = v.strictObject({
  name: v.string(),
  objects: count,
  bytes: v.pipe(count, v.description("Sum of the sizes of the objects under the channel's prefix.")),
  storage: v.pipe(
    v.strictObject({
      liveFragments: amount,
      vodFragments: amount,
      playlists: amount,
      snapshots: amount,
      other: amount,
    }),
    v.description('Objects and bytes by kind (the live/VOD fragment split is an estimate; totals are exact).'),
  ),
  listedAt: v.pipe(v.nullable(v.string()), v.description('When cleanup last listed the folder; null if never.')),
  requestsPerMonth: v.pipe(
    count,
    v.description('OSS requests made for the channel, counted and projected to the month.'),
  ),
  requests: v.strictObject({
    month: v.string(),
    get: count,
    put: count,
    total: count,
    byOperation: v.record(v.string(), count),
  }),
  compute: v.strictObject({ invocations: v.number(), gbSeconds: v.number() }),
  cnyPerMonth: v.strictObject({ ...cnyBreakdown, overheadShare: cny }),
  cnyThisMonth: v.strictObject(cnyBreakdown),
  budget: v.nullable(
    v.strictObject({
      cnyPerMonth: cny,
      source: v.picklist(['channel', 'config']),
      used: v.number(),
      level: v.nullable(v.picklist(['warning', 'exceeded'])),
    }),
  ),
});

const reportHead = {
  bucket: v.string(),
  month: v.string(),
  generatedAt: v.string(),
  monthElapsed: v.pipe(v.number(), v.description('The fraction of the month passed.')),
  prices: PRICE_TABLE,
  overhead: v.strictObject({ requestsPerMonth: count, cnyPerMonth: v.strictObject(cnyBreakdown) }),
  totals: v.strictObject({ channels: count, objects: count, bytes: count, cnyPerMonth: cny }),
};

export const COST_REPORT = v.strictObject({
  ...reportHead,
  channels: v.array(CHANNEL_COST),
  nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as `cursor` for the next page; null on the last.')),
});

/** GET /channels/{name}/cost: the report of one channel. */
export const CHANNEL_COST_REPORT = v.strictObject({ ...reportHead, channel: CHANNEL_COST });

export const BUDGET_SET = v.strictObject({
  name: v.string(),
  cnyPerMonth: v.pipe(v.nullable(cny), v.description('null: no budget of its own (COST_BUDGET_CNY applies).')),
  setAt: v.string(),
  by: v.string(),
});

export const DRIFT_ITEM = v.strictObject({
  id: v.pipe(
    v.string(),
    v.description('`<kind>:<channel or prefix>`: stable across checks while the disagreement lasts.'),
  ),
  kind: v.picklist(['untracked-channel', 'missing-channel', 'orphan-prefix', 'foreign-prefix']),
  channel: v.pipe(
    v.optional(v.string()),
    v.description('The channel concerned (channel kinds, and prefixes named like a channel).'),
  ),
  prefix: v.pipe(
    v.optional(v.string()),
    v.description('The top-level folder concerned (prefix kinds), ending in `/`.'),
  ),
  detail: v.string(),
  action: v.picklist(['adopt', 'record-deletion', 'cleanup', 'leave']),
  fixable: v.pipe(v.boolean(), v.description('Whether `livecycle drift --fix` carries the action out.')),
});

export const DRIFT_REPORT = v.strictObject({
  bucket: v.string(),
  checkedAt: v.string(),
  counts: v.strictObject({ ossChannels: count, ledgerChannels: count, folders: count }),
  items: v.array(DRIFT_ITEM),
});
