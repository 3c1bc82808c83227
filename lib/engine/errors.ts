/**
 * Named errors, split by what the caller should do: a retryable error is thrown so Lambda (or the
 * local bus) retries the delivery; a non-retryable one is recorded and the event is not retried.
 */
export abstract class EngineError extends Error {
  abstract readonly retryable: boolean;
}

/** A throttle, a partial PutEvents failure, a transient store error: try the delivery again. */
export class RetryableError extends EngineError {
  override readonly name: string = 'RetryableError';
  readonly retryable = true;
}

/**
 * PutEvents kept failing for some entries after in-call retries. `accepted` lists the indices the
 * bus did accept; `ambiguous` means a call may have reached the bus without an answer (timeout,
 * network error), so the outbox must not be handed back before its lease ends.
 */
export class PublishError extends RetryableError {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    readonly failed: { index: number; errorCode?: string; errorMessage?: string }[],
    readonly accepted: readonly number[] = [],
    readonly ambiguous = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Too little of the invocation is left to publish inside the lease: leave it to a retry or the sweeper. */
export class PublishDeferredError extends RetryableError {
  override readonly name = 'PublishDeferredError';
}

/** Another invocation is evaluating the same event right now; retry after its lease. */
export class EvaluationInProgressError extends RetryableError {
  override readonly name = 'EvaluationInProgressError';
}

/** Concurrent evaluations of the same world kept colliding on episode state. */
export class ConcurrentUpdateError extends RetryableError {
  override readonly name = 'ConcurrentUpdateError';
}

/** A `*_ref` field could not be read: unknown scheme, missing object, unparsable content. */
export class RefResolutionError extends EngineError {
  override readonly name = 'RefResolutionError';
  constructor(
    message: string,
    readonly field: string,
    /** Transient (network, throttling) failures are retried; a missing object is not. */
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The store refused a record for its size or a key's length (DynamoDB's ValidationException). */
export class RecordTooLargeError extends EngineError {
  override readonly name = 'RecordTooLargeError';
  readonly retryable = false;
}
