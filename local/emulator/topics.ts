import { randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/log';
import type { TopicHub, TopicMessage } from './types';

type Subscriber = (message: TopicMessage) => Promise<void>;

/**
 * An in-memory MNS-like topic: publish returns as soon as the message is accepted (MessageId,
 * PublishTime from the emulator clock), then every subscriber receives it. Deliveries to one
 * subscriber run in publish order; a subscriber that throws is logged and counted, and the
 * message is not redelivered (MNS retry policies belong to whoever subscribes).
 */
export class InMemoryTopicHub implements TopicHub {
  private readonly subscribers = new Map<string, Set<{ deliver: Subscriber; tail: Promise<void> }>>();
  private readonly inFlight = new Set<Promise<void>>();
  private failures = 0;
  private published = 0;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async publish(topic: string, body: string, attributes?: Record<string, string>): Promise<TopicMessage> {
    if (!topic) throw new RangeError('topic name must not be empty');
    const message: TopicMessage = {
      messageId: randomBytes(16).toString('hex').toUpperCase(),
      topic,
      body,
      publishTime: this.clock.now(),
      ...(attributes ? { attributes: { ...attributes } } : {}),
    };
    this.published++;
    for (const sub of this.subscribers.get(topic) ?? []) {
      const delivery = sub.tail.then(() =>
        sub.deliver(message).catch((err: unknown) => {
          this.failures++;
          this.log.warn({ err, topic, messageId: message.messageId }, 'topic subscriber failed');
        }),
      );
      sub.tail = delivery;
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
    return message;
  }

  subscribe(topic: string, deliver: Subscriber): () => void {
    const sub = { deliver, tail: Promise.resolve() };
    let subs = this.subscribers.get(topic);
    if (!subs) this.subscribers.set(topic, (subs = new Set()));
    subs.add(sub);
    return () => {
      subs.delete(sub);
    };
  }

  /** Resolves once every delivery started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  stats(): { published: number; failedDeliveries: number; topics: string[] } {
    return { published: this.published, failedDeliveries: this.failures, topics: [...this.subscribers.keys()].sort() };
  }
}
