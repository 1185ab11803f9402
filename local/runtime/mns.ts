/**
 * MNS topic triggers: each subscribes to the emulator's TopicHub topic named in its sourceArn
 * and pushes every message to the function, retrying a failed push on the clock per the
 * trigger's notifyStrategy (reference §5):
 *   BACKOFF_RETRY            3 retries, each after a random 10–20 s
 *   EXPONENTIAL_DECAY_RETRY  176 retries: 1, 2, 4 … 256 s, then 512 s × 167 (about one day)
 * After the last retry the message is dropped for this subscription, as MNS does.
 *
 * FC may itself invoke topic triggers asynchronously (reference §1.7, unconfirmed), which would
 * add FC's async retries on top; locally a push is a synchronous invocation, so only the MNS
 * layer retries — handlers must be idempotent either way.
 */
import type { SchedulingClock } from '../../shared/clock';
import type { TopicHub, TopicMessage } from '../emulator/types';
import { mnsEvent } from './events';
import type { FunctionHost, InvocationOutcome } from './invoke';
import type { MnsTopicTriggerSpec, NotifyStrategy } from './syaml';

/** Seconds to wait before retry number `retry` (1-based), or undefined when retries are exhausted. */
export function retryDelaySeconds(strategy: NotifyStrategy, retry: number, random: () => number): number | undefined {
  if (strategy === 'BACKOFF_RETRY') return retry <= 3 ? 10 + random() * 10 : undefined;
  if (retry > 176) return undefined;
  return retry <= 9 ? 2 ** (retry - 1) : 512;
}

export interface MnsDelivery {
  message: TopicMessage;
  trigger: string;
  status: 'delivered' | 'dropped' | 'cancelled';
  attempts: number;
  last?: InvocationOutcome;
}

export interface MnsSubscriptionOptions {
  host: FunctionHost;
  trigger: MnsTopicTriggerSpec;
  topics: TopicHub;
  clock: SchedulingClock;
  accountId: string;
  random: () => number;
  /** Told about each message's final state (tests, `livecycle start` output). */
  onSettled?: (delivery: MnsDelivery) => void;
}

/** Subscribes the trigger; returns a function that unsubscribes and cancels pending retries. */
export function subscribeTrigger(opts: MnsSubscriptionOptions): () => void {
  const { host, trigger, clock } = opts;
  const pending = new Set<() => void>();
  let stopped = false;
  const subscription = { accountId: opts.accountId, subscriptionName: `${host.spec.functionName}-${trigger.name}` };

  const push = async (message: TopicMessage, attempt: number): Promise<void> => {
    const event = mnsEvent(trigger.notifyContentFormat, message, subscription);
    const last = await host.invoke(event, undefined, `mns ${trigger.name}`);
    if (last.status === 'succeeded')
      return opts.onSettled?.({ message, trigger: trigger.name, status: 'delivered', attempts: attempt, last });
    const delay = retryDelaySeconds(trigger.notifyStrategy, attempt, opts.random);
    if (delay === undefined || stopped) {
      return opts.onSettled?.({
        message,
        trigger: trigger.name,
        status: stopped ? 'cancelled' : 'dropped',
        attempts: attempt,
        last,
      });
    }
    const cancel = clock.at(clock.now() + Math.round(delay * 1000), () => {
      pending.delete(cancelAndReport);
      void push(message, attempt + 1);
    });
    const cancelAndReport = () => {
      cancel();
      opts.onSettled?.({ message, trigger: trigger.name, status: 'cancelled', attempts: attempt, last });
    };
    pending.add(cancelAndReport);
  };

  const unsubscribe = opts.topics.subscribe(trigger.topic, async (message) => {
    if (stopped) return;
    // MNS pushes to each subscription on its own: don't hold the publisher while we retry.
    void push(message, 1);
  });
  return () => {
    stopped = true;
    unsubscribe();
    for (const cancel of pending) cancel();
    pending.clear();
  };
}
