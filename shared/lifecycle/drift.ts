/**
 * Drift between OSS's channel list, the ledger and the bucket's top-level folders: what
 * disagrees, and the one action that resolves each disagreement (docs/cost.md, "Drift").
 */
import { createHash } from 'node:crypto';
import type * as v from 'valibot';
import { CHANNEL_NAME } from '../ledger/keys';
import type { DRIFT_ITEM } from './cost-schema';

export type DriftKind = DriftItem['kind'];

/**
 * - `adopt`: record a generation for a channel OSS has and the ledger does not (`drift --fix`);
 * - `record-deletion`: tombstone a ledger channel OSS no longer has, so cleanup may reclaim its
 *   ingest output after the grace period (`drift --fix`);
 * - `cleanup`: nothing for drift to do: cleanup-orphans reclaims what the channel's ingest wrote;
 * - `leave`: a folder livecycle never managed; nothing is done to it, ever.
 */
export type DriftAction = DriftItem['action'];

/** The actions `drift --fix` carries out; the others are only reported. */
export const FIXABLE_ACTIONS: readonly DriftAction[] = ['adopt', 'record-deletion'];

/** One disagreement and the action that resolves it (`id`: `<kind>:<channel or prefix>`, stable while it lasts); schema: DRIFT_ITEM. */
export type DriftItem = v.InferOutput<typeof DRIFT_ITEM>;

export interface LedgerChannelState {
  /** Latest generation (creation time; 0 when unknown). */
  generation: number;
  /** The latest generation has a tombstone. */
  deleted: boolean;
}

export interface DriftInput {
  /** ListLiveChannel's names. */
  ossChannels: ReadonlySet<string>;
  /** The ledger's channels (latest generation each). */
  ledgerChannels: ReadonlyMap<string, LedgerChannelState>;
  /** Top-level folders of the bucket (`name/`), from a delimiter listing. */
  folders: Iterable<string>;
  ledgerPrefix: string;
  /** CLEANUP_CHANNEL_PREFIXES: folders cleanup treats as channels without a ledger record. */
  channelPrefixes: readonly string[];
}

/** Every disagreement, channels first (by name), then folders (by name). */
export function driftItems(input: DriftInput): DriftItem[] {
  const items: DriftItem[] = [];
  const item = (kind: DriftKind, name: { channel?: string; prefix?: string }, detail: string, action: DriftAction) =>
    items.push({
      id: `${kind}:${name.prefix ?? name.channel}`,
      kind,
      ...name,
      detail,
      action,
      fixable: FIXABLE_ACTIONS.includes(action),
    });
  const names = [...new Set([...input.ossChannels, ...input.ledgerChannels.keys()])].sort();
  for (const channel of names) {
    const inOss = input.ossChannels.has(channel);
    const ledger = input.ledgerChannels.get(channel);
    if (inOss && (!ledger || ledger.deleted)) {
      item(
        'untracked-channel',
        { channel },
        ledger
          ? `OSS has the channel, but the ledger recorded generation ${ledger.generation} deleted: recreated outside livecycle`
          : 'OSS has the channel; the ledger never saw it (created outside livecycle)',
        'adopt',
      );
    } else if (!inOss && ledger && !ledger.deleted) {
      item(
        'missing-channel',
        { channel },
        `the ledger's generation ${ledger.generation} is not deleted, but OSS no longer has the channel (deleted outside livecycle)`,
        'record-deletion',
      );
    }
  }
  const folders = [...input.folders].sort();
  for (const prefix of folders) {
    if (input.ledgerPrefix.startsWith(prefix)) continue;
    const name = prefix.slice(0, -1);
    if (input.ossChannels.has(name)) continue;
    const isName = CHANNEL_NAME.test(name) && name !== '.' && name !== '..';
    const known = isName && input.ledgerChannels.has(name);
    const scoped = isName && input.channelPrefixes.some((p) => name.startsWith(p));
    if (known || scoped) {
      item(
        'orphan-prefix',
        { prefix, channel: name },
        `objects under ${prefix} and no channel ${name} in OSS; ${known ? 'livecycle managed a channel of that name' : 'the name matches CLEANUP_CHANNEL_PREFIXES'}`,
        'cleanup',
      );
    } else {
      item(
        'foreign-prefix',
        { prefix },
        `objects under ${prefix} that no channel livecycle knows wrote: someone else's folder`,
        'leave',
      );
    }
  }
  return items;
}

/** A plan id: what the dry run showed, so `--fix <planId>` applies exactly the reviewed items. */
export function driftPlanId(createdAt: number, items: readonly DriftItem[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([createdAt, items.map((i) => i.id)]))
    .digest('hex')
    .slice(0, 12);
  return `plan-${createdAt}-${digest}`;
}

/** A key-safe name for an item's action record. */
export function driftItemToken(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/** How long a dry run's plan may be applied: past it, the operator looks again. */
export const DRIFT_PLAN_TTL_MS = 24 * 3_600_000;
