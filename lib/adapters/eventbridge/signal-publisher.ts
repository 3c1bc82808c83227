import { type AwsJsonClient, AwsServiceError } from '#lib/adapters/aws-json.js';
import { callTimeout } from '#lib/adapters/signed-http.js';
import { PublishError } from '#lib/engine/errors.js';
import type { SignalPublisher } from '#lib/engine/ports.js';
import {
  batches,
  type PublishableEvent,
  type PutEventsRequestEntry,
  type PutEventsResponse,
  putEventsEntry,
} from './put-events.js';

export { MAX_PUT_EVENTS_BYTES, type PublishableEvent } from './put-events.js';

export interface PublisherOptions {
  /** In-call retries of the failed entries only, before giving up to the invocation's retry. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The wall clock a `deadlineMs` is read against (tests move it). */
  now?: () => number;
}

type Pending = { index: number; entry: PutEventsRequestEntry; bytes: number };
type Failure = PublishError['failed'][number];

/**
 * Puts CloudEvents on the bus as `detail`, reading every PutEvents result entry: failed entries
 * (FailedEntryCount > 0) are retried alone, with backoff, and whatever still fails throws a
 * retryable PublishError so Lambda retries the delivery, which then finds the pending outbox.
 * A call the service refused or never answered throws at once (the client has already retried it per
 * the SDK's standard policy): `ambiguous` says whether the bus may hold its entries (see `callFailed`).
 */
export class EventBridgeSignalPublisher implements SignalPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly client: AwsJsonClient,
    private readonly eventBusName: string,
    options: PublisherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  async publish(events: readonly PublishableEvent[], options: { deadlineMs?: number } = {}): Promise<void> {
    const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
    let pending: Pending[] = events.map((event, index) => ({
      index,
      ...putEventsEntry(this.eventBusName, event),
    }));
    const accepted: number[] = [];
    let lastFailures: Failure[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      const failedNow: Pending[] = [];
      lastFailures = [];
      const calls = [...batches(pending)];
      for (const [c, batch] of calls.entries()) {
        const left = deadline - this.now();
        if (left <= 0) {
          // Not sent: a definite failure, nothing of this batch reached the bus.
          failedNow.push(...batch);
          lastFailures.push(...batch.map((b) => ({ index: b.index, errorCode: 'DeadlineReached' })));
          continue;
        }
        let out: PutEventsResponse;
        // The deadline stops the client's own retries too, and a call in flight (its abort is a transport
        // error: ambiguous).
        const deadlineReached = Number.isFinite(left) ? callTimeout(left) : undefined;
        try {
          out = await this.client.call<PutEventsResponse>(
            'PutEvents',
            { Entries: batch.map((b) => b.entry) },
            deadlineReached ? { signal: deadlineReached.signal } : {},
          );
        } catch (error) {
          const unsent = calls.slice(c + 1).flat();
          throw callFailed(error, batch, [...lastFailures, ...notSent(unsent)], accepted);
        } finally {
          deadlineReached?.clear();
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
}

/**
 * The PublishError for a PutEvents call that threw, `ambiguous` when the bus may have taken its entries:
 *
 * - `AwsTransportError` (no answer: network failure, attempt timeout, the deadline aborting a call in
 *   flight, after the client's retries): ambiguous, the request may have been applied.
 * - `AwsServiceError` with a 4xx status (AccessDeniedException, ValidationException, a throttle the client's
 *   retries did not outlast): definite. A client-fault answer refuses the request as a whole
 *   (authorization, validation, throttling come before any entry is taken); an entry EventBridge takes and
 *   cannot put is answered per entry, with HTTP 200. Unless an earlier attempt of the same call went
 *   unanswered or hit a server fault (`attemptsInDoubt`): a time-out then a throttle may have put the
 *   entries with the first attempt, so that is ambiguous too.
 * - `AwsServiceError` with a 5xx status (InternalException, ServiceUnavailable): ambiguous. A server fault
 *   says processing failed, not that it failed before the first entry was stored, and PutEvents is not
 *   atomic (hence per-entry results). Calling it definite would hand the outbox back as unpublished while
 *   the bus may hold some of its events, so their republication would go uncounted (PublishAmbiguous);
 *   calling it ambiguous costs at most a republication the gateway dedupes by event id anyway.
 * - Anything else (a bug, an answer that is not JSON): ambiguous, as nothing says the bus refused it.
 */
function callFailed(
  error: unknown,
  batch: readonly Pending[],
  othersFailed: readonly Failure[],
  accepted: readonly number[],
): PublishError {
  const refused = error instanceof AwsServiceError && error.status < 500 && error.attemptsInDoubt === 0;
  const code = error instanceof AwsServiceError ? error.code : 'NoAnswer';
  const failed = [
    ...batch.map((b) => ({ index: b.index, errorCode: code, errorMessage: (error as Error).message })),
    ...othersFailed,
  ].sort((a, b) => a.index - b.index);
  // The request id is what AWS support asks for; the trace's HTTP subsegment does not carry it.
  const requestId = error instanceof AwsServiceError && error.requestId ? `, request ${error.requestId}` : '';
  const what = `${(error as Error).name}: ${(error as Error).message}${requestId}`;
  return new PublishError(
    refused
      ? `PutEvents refused ${batch.length} entries (${what}); none of them was put`
      : `PutEvents gave no definite answer for ${batch.length} entries (${what}); their fate is unknown`,
    failed,
    accepted,
    !refused,
    { cause: error },
  );
}

/** Entries of the calls not started because an earlier call threw: not put. */
function notSent(entries: readonly Pending[]): Failure[] {
  return entries.map((e) => ({ index: e.index, errorCode: 'NotSent' }));
}
