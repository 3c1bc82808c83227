/**
 * The names and keys of the events the engine puts on the bus, without their schemas (exit-signal.ts):
 * the Lambda functions build these events but never validate them, and zod builds a schema when its
 * module loads, at every cold start (issue 12 item 5).
 */

export const EXIT_SIGNAL_DETAIL_TYPE = 'exit_signal_emitted';
export const EXIT_SIGNAL_PROPOSED_DETAIL_TYPE = 'exit_signal_proposed';
export const EXIT_ENGINE_SOURCE = 'qmtl.services.exit_engine';

/** Upstream's idempotency-key pattern, extended with the evaluation key (see README §Contracts). */
export function exitSignalIdempotencyKey(
  worldId: string,
  snapshotVersion: string,
  eventVersion: number,
  evaluationKey: string,
): string {
  return `exit_signal_emitted:${worldId}:${snapshotVersion}:${eventVersion}:${evaluationKey}`;
}
