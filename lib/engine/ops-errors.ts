/**
 * Ops refusals, by kind. The kind says what went wrong (the HTTP status a handler answers with is the
 * handler's business: lib/handlers/ops-handler.ts maps kinds to statuses).
 */
export type OpsErrorKind = 'invalid' | 'not_found' | 'conflict';

/** An ops request that cannot be carried out; the message says why, for a person. */
export abstract class OpsError extends Error {
  abstract readonly kind: OpsErrorKind;
}

/** A field of the request is missing or wrong; the message names it. */
export class OpsValidationError extends OpsError {
  override readonly name = 'OpsValidationError';
  readonly kind = 'invalid';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** No signal (or mute) with that id. */
export class OpsNotFoundError extends OpsError {
  override readonly name = 'OpsNotFoundError';
  readonly kind = 'not_found';
}

/** The target is not in a state that allows the action (already decided, expired, ended, same approver, …). */
export class OpsConflictError extends OpsError {
  override readonly name = 'OpsConflictError';
  readonly kind = 'conflict';
  constructor(
    message: string,
    readonly current?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
