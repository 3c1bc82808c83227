import { OpsNotFoundError, OpsValidationError } from './ops-errors.js';
import type { EngineLogger, EngineMetrics, OpsSignalItem, OpsStore, SignalPublisher } from './ports.js';
import type { WorldCatalog } from './world-catalog.js';

/** What every ops use case is given: the ports and settings, passed in (time comes with each call). */
export interface OpsDeps {
  store: OpsStore;
  /** The world's rule set and strategies, which a mute must name correctly. */
  catalog: WorldCatalog;
  publisher: SignalPublisher;
  logger: EngineLogger;
  metrics: EngineMetrics;
  engineVersion: string;
  /** How long an approver's publish keeps the sweep from publishing the same signal. */
  leaseMs: number;
  auditRetentionDays: number;
}

/** Who does it, why, and when (wall time in the caller). */
export interface Actor {
  /** The caller as authenticated: the full ARN (session name included), audited as is. */
  actor: string;
  /** Who that is for four eyes; derived from `actor` (session dropped) unless given (engine/principal.ts). */
  principal?: string;
  reason: string;
  nowMs: number;
}

/** A required text field, trimmed; empty or missing is refused naming the field. */
export function required(field: string, value: string | undefined): string {
  const v = value?.trim();
  if (!v) throw new OpsValidationError(field, 'is required and must not be empty');
  return v;
}

/** Reads one signal; unknown ids are a 404 with the id in the message. */
export async function findSignal(deps: OpsDeps, signalId: string): Promise<OpsSignalItem> {
  const id = required('signal_id', signalId);
  const item = await deps.store.getSignal(id);
  if (!item)
    throw new OpsNotFoundError(
      `no signal with id '${id}' (ids look like sig-xxxxxxxx-…; see 'signals list')`,
    );
  return item;
}
