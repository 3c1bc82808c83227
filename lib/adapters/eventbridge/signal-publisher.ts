import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EXIT_ENGINE_SOURCE } from '../../contracts/exit-signal.js';
import { PublishError } from '../../engine/errors.js';
import type { SignalPublisher } from '../../engine/ports.js';

/** Outbound CloudEvents this publisher puts on the bus (the detail-type is the CloudEvent type). */
export interface PublishableEvent {
  id: string;
  type: string;
  time: string;
}

export interface PublisherOptions {
  /** In-call retries of the failed entries only, before giving up to the invocation's retry. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Puts CloudEvents on the bus as `detail`, reading every PutEvents result entry: failed entries
 * (FailedEntryCount > 0) are retried alone, with backoff, and whatever still fails throws a
 * retryable PublishError so Lambda retries the delivery, which then finds the pending outbox.
 */
export class EventBridgeSignalPublisher implements SignalPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    options: PublisherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: readonly PublishableEvent[]): Promise<void> {
    let pending: { index: number; entry: PutEventsRequestEntry }[] = events.map((event, index) => ({
      index,
      entry: {
        EventBusName: this.eventBusName,
        Source: EXIT_ENGINE_SOURCE,
        DetailType: event.type,
        Time: new Date(event.time),
        Detail: JSON.stringify(event),
      },
    }));
    let lastFailures: PublishError['failed'] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      const failedNow: typeof pending = [];
      lastFailures = [];
      // PutEvents takes at most 10 entries per call.
      for (let i = 0; i < pending.length; i += 10) {
        const batch = pending.slice(i, i + 10);
        const out = await this.client.send(new PutEventsCommand({ Entries: batch.map((b) => b.entry) }));
        if ((out.FailedEntryCount ?? 0) === 0) continue;
        (out.Entries ?? []).forEach((result, j) => {
          const sent = batch[j];
          if (sent && result.ErrorCode) {
            failedNow.push(sent);
            lastFailures.push({
              index: sent.index,
              errorCode: result.ErrorCode,
              ...(result.ErrorMessage ? { errorMessage: result.ErrorMessage } : {}),
            });
          }
        });
        if (failedNow.length === 0) {
          // FailedEntryCount said something failed but no entry says which: retry the whole batch.
          failedNow.push(...batch);
          lastFailures.push(...batch.map((b) => ({ index: b.index, errorCode: 'Unknown' })));
        }
      }
      pending = failedNow;
    }
    if (pending.length > 0) {
      const codes = [...new Set(lastFailures.map((f) => f.errorCode))].join(', ');
      throw new PublishError(
        `PutEvents failed for ${pending.length} of ${events.length} entries after ${this.maxAttempts} attempts (${codes})`,
        lastFailures,
      );
    }
  }
}
