/**
 * The cost and drift reports' schemas (docs/cost.md): the report types (`CostReport`,
 * `ChannelCost`, shared/operations/cost.ts; `DriftReport`, shared/operations/drift.ts) are inferred
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
  storageGbMonth: cny,
  putPer10k: cny,
  getPer10k: cny,
  fcInvocationsPer10k: cny,
  fcGbSecond: cny,
  fcVcpuSecond: cny,
  vcpuPerGb: v.number(),
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
  id: v.string(),
  kind: v.picklist(['untracked-channel', 'missing-channel', 'orphan-prefix', 'foreign-prefix']),
  channel: v.optional(v.string()),
  prefix: v.optional(v.string()),
  detail: v.string(),
  action: v.picklist(['adopt', 'record-deletion', 'cleanup', 'leave']),
  fixable: v.boolean(),
});

export const DRIFT_REPORT = v.strictObject({
  bucket: v.string(),
  checkedAt: v.string(),
  counts: v.strictObject({ ossChannels: count, ledgerChannels: count, folders: count }),
  items: v.array(DRIFT_ITEM),
});
