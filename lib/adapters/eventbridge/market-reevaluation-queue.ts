import type { AwsJsonClient } from '#lib/adapters/aws-json.js';
import { marketReevaluationEvent } from '#lib/contracts/market-reevaluation-event.js';
import type { MarketReevaluationQueue, MarketReevaluationRequest } from '#lib/engine/ports.js';
import { MAX_PUT_EVENTS_ENTRIES } from './put-events.js';
import { EventBridgeSignalPublisher, type PublisherOptions } from './signal-publisher.js';

export interface MarketReevaluationQueueOptions extends PublisherOptions {
  /** PutEvents calls in flight at once (2,000 worlds are 200 calls). */
  concurrentCalls?: number;
}

/**
 * Per-world market re-evaluation requests as `market_reevaluation_requested` events on our own bus,
 * ten per PutEvents call, a few calls at a time. Each call goes through the signal publisher's path:
 * every result entry is read, failed entries are retried alone with backoff, and what still fails
 * throws a retryable PublishError, so the market delivery is retried and asks again.
 */
export class EventBridgeMarketReevaluationQueue implements MarketReevaluationQueue {
  private readonly publisher: EventBridgeSignalPublisher;
  private readonly concurrentCalls: number;

  constructor(client: AwsJsonClient, eventBusName: string, options: MarketReevaluationQueueOptions = {}) {
    this.publisher = new EventBridgeSignalPublisher(client, eventBusName, options);
    this.concurrentCalls = options.concurrentCalls ?? 8;
  }

  async request(requests: readonly MarketReevaluationRequest[]): Promise<void> {
    const events = requests.map((r) =>
      marketReevaluationEvent(
        {
          world_id: r.worldId,
          market_event_id: r.marketEventId,
          market_scope: r.marketScope,
          market_as_of: r.marketAsOf,
        },
        r.requestedAtMs,
      ),
    );
    const calls: (typeof events)[] = [];
    for (let i = 0; i < events.length; i += MAX_PUT_EVENTS_ENTRIES)
      calls.push(events.slice(i, i + MAX_PUT_EVENTS_ENTRIES));
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < calls.length) {
        const batch = calls[next++]!;
        try {
          await this.publisher.publish(batch);
        } catch (error) {
          errors.push(error);
        }
      }
    };
    // Every call is tried before the first failure is thrown: one bad batch must not strand the rest.
    await Promise.all(Array.from({ length: Math.min(this.concurrentCalls, calls.length) }, worker));
    if (errors.length > 0) throw errors[0];
  }
}
