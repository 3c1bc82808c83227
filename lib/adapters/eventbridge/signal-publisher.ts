import type {
  EventBridgeClient,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EXIT_ENGINE_SOURCE } from '#lib/contracts/exit-signal-ids.js';
import { PublishError } from '#lib/engine/errors.js';
import type { SignalPublisher } from '#lib/engine/ports.js';

/** PutEvents' limit on one request (and so on one entry). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/** Outbound CloudEvents this publisher puts on the bus (the detail-type is the CloudEvent type). */
export interface PublishableEvent {
  id: string;
  type: string;
  time: string;
}

/**
 * The EventBridge client, or a function that builds it on first use (memoized by the publisher). A
 * Lambda passes the function: a snapshot evaluation publishes only when a signal fires, so most cold
 * invocations never load the EventBridge SDK (lib/runtime/wire.ts).
 */
export type EventBridgeClientSource = EventBridgeClient | (() => Promise<EventBridgeClient>);

// The SDK's command classes, loaded with the first publish: imported dynamically so the Lambda bundle keeps
// the EventBridge client in a chunk of its own that only a publishing invocation loads.
let sdk: Promise<typeof import('./eventbridge-sdk.js')> | undefined;
function eventBridgeSdk(): Promise<typeof import('./eventbridge-sdk.js')> {
  sdk ??= import('./eventbridge-sdk.js');
  return sdk;
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
  private readonly client: EventBridgeClientSource;
  private built: Promise<EventBridgeClient> | undefined;

  constructor(
    client: EventBridgeClientSource,
    private readonly eventBusName: string,
    options: PublisherOptions = {},
  ) {
    this.client = client;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: readonly PublishableEvent[], options: { deadlineMs?: number } = {}): Promise<void> {
    const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
    let pending: { index: number; entry: PutEventsRequestEntry; bytes: number }[] = events.map(
      (event, index) => {
        const entry = {
          EventBusName: this.eventBusName,
          Source: EXIT_ENGINE_SOURCE,
          DetailType: event.type,
          Time: new Date(event.time),
          Detail: JSON.stringify(event),
        };
        return { index, entry, bytes: entrySize(entry) };
      },
    );
    const client = await this.resolveClient();
    const { PutEventsCommand } = await eventBridgeSdk();
    const accepted: number[] = [];
    let lastFailures: PublishError['failed'] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      const failedNow: typeof pending = [];
      lastFailures = [];
      for (const batch of batches(pending)) {
        const left = deadline - Date.now();
        if (left <= 0) {
          // Not sent: a definite failure, nothing of this batch reached the bus.
          failedNow.push(...batch);
          lastFailures.push(...batch.map((b) => ({ index: b.index, errorCode: 'DeadlineReached' })));
          continue;
        }
        let out: PutEventsCommandOutput;
        try {
          out = await client.send(
            new PutEventsCommand({ Entries: batch.map((b) => b.entry) }),
            Number.isFinite(left) ? { abortSignal: AbortSignal.timeout(left) } : {},
          );
        } catch (error) {
          // No answer: the bus may or may not have taken these entries.
          throw new PublishError(
            `PutEvents gave no answer for ${batch.length} entries (${(error as Error).name}); their fate is unknown`,
            batch.map((b) => ({ index: b.index, errorCode: 'NoAnswer' })),
            accepted,
            true,
            { cause: error },
          );
        }
        const results = out.Entries ?? [];
        if ((out.FailedEntryCount ?? 0) === 0) {
          accepted.push(...batch.map((b) => b.index));
          continue;
        }
        let named = 0;
        batch.forEach((sent, j) => {
          const result = results[j];
          if (result?.ErrorCode) {
            named++;
            failedNow.push(sent);
            lastFailures.push({
              index: sent.index,
              errorCode: result.ErrorCode,
              ...(result.ErrorMessage ? { errorMessage: result.ErrorMessage } : {}),
            });
          } else if (result?.EventId) accepted.push(sent.index);
        });
        if (named === 0) {
          // FailedEntryCount said something failed but no entry says which: retry the whole batch.
          failedNow.push(...batch.filter((b) => !accepted.includes(b.index)));
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
        accepted,
      );
    }
  }

  /** The client, built on the first publish where a builder was given (a failed build is tried again next time). */
  private resolveClient(): Promise<EventBridgeClient> {
    const source = this.client;
    if (typeof source !== 'function') return Promise.resolve(source);
    this.built ??= source().catch((error: unknown) => {
      this.built = undefined;
      throw error;
    });
    return this.built;
  }
}

/** PutEvents' size of an entry, as EventBridge counts it (Time is 14 bytes). */
function entrySize(e: PutEventsRequestEntry): number {
  return (
    14 +
    Buffer.byteLength(e.Source ?? '') +
    Buffer.byteLength(e.DetailType ?? '') +
    Buffer.byteLength(e.Detail ?? '') +
    (e.Resources ?? []).reduce((n, r) => n + Buffer.byteLength(r), 0)
  );
}

/** PutEvents takes at most 10 entries and 256 KB per call. */
function* batches<T extends { bytes: number }>(items: readonly T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (batch.length > 0 && (batch.length === 10 || bytes + item.bytes > MAX_PUT_EVENTS_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.bytes;
  }
  if (batch.length > 0) yield batch;
}
