import type { MarketSnapshotCloudEvent } from '#lib/contracts/market-snapshot.js';
import type { RiskSnapshotCloudEvent } from '#lib/contracts/risk-snapshot.js';
import type { OutboxProtocol } from './outbox.js';
import type {
  AuditRecord,
  EngineLogger,
  EngineMetrics,
  EngineStore,
  RefResolver,
  RuleSetSource,
  SignalPublisher,
} from './ports.js';
import { expiry, type Retention } from './records.js';

/**
 * What every path of the engine shares: its dependencies, the outbox protocol, the outcome a
 * delivery ends in, and the audit/retention helpers. The paths themselves live beside it:
 * snapshot-trigger, market-trigger and staleness-trigger hand an evaluation to claimed-evaluation.
 */

/** Everything the engine needs from outside, passed in (no globals, no clock reads). */
export interface EngineDeps {
  store: EngineStore;
  publisher: SignalPublisher;
  refs: RefResolver;
  ruleSets: RuleSetSource;
  metrics: EngineMetrics;
  logger: EngineLogger;
  engineVersion: string;
  /** How long a claim protects an evaluation from a concurrent duplicate. */
  leaseMs: number;
  /** The longest one publish may take (PutEvents calls start and end inside it); default 10 s. */
  publishWindowMs?: number;
  /** Allowance for host clocks disagreeing, added to every publish lease; default 1 s. */
  clockSkewMs?: number;
  signalRetentionDays: number;
  auditRetentionDays: number;
  marketMaxAgeMs: number;
  /** Wall-clock time for leases, which must expire in real time even when replaying history. */
  wallClock?: () => number;
}

/** What happened to one delivery; the handler maps it to logs and metrics, never to a retry. */
export type Outcome =
  | { outcome: 'published'; world_id: string; event_id: string; signals: number; stored: number }
  | { outcome: 'stored_only'; world_id: string; stored: number }
  | { outcome: 'no_signal'; world_id: string }
  | { outcome: 'duplicate'; world_id: string }
  | { outcome: 'completed_on_retry'; world_id: string; event_id: string }
  | { outcome: 'out_of_order'; world_id: string; latest_as_of: string }
  | { outcome: 'superseded'; world_id: string }
  /** `market`: a market re-evaluation met an expired snapshot and skipped it (not recorded: the staleness sweep covers it). */
  | { outcome: 'expired'; world_id: string; expired_at: string; trigger?: 'market' }
  | { outcome: 'rejected'; world_id: string; reasons: string[] }
  | { outcome: 'no_ruleset'; world_id: string }
  | { outcome: 'handed_over'; world_id: string };

/** A hub snapshot delivery: the validated CloudEvent and the EventBridge delivery facts. */
export interface SnapshotDelivery {
  cloudEvent: RiskSnapshotCloudEvent;
  /** The EventBridge event id (stable across EventBridge's own retries). */
  deliveryId: string;
  /** Who is evaluating (Lambda request id): the owner of the claim. */
  invocationId: string;
  /** Time left in the invocation (Lambda's `getRemainingTimeInMillis`); none: no deadline. */
  remainingMs?: () => number;
  nowMs: number;
}

/** A market data delivery: the validated CloudEvent and the EventBridge delivery facts. */
export interface MarketDelivery {
  cloudEvent: MarketSnapshotCloudEvent;
  deliveryId: string;
  invocationId: string;
  remainingMs?: () => number;
  nowMs: number;
}

/** One world's market re-evaluation request, as its own delivery brings it. */
export interface MarketReevaluationDelivery {
  worldId: string;
  marketEventId: string;
  deliveryId: string;
  invocationId: string;
  remainingMs?: () => number;
  nowMs: number;
}

/** The dependencies and the outbox protocol, as each path of the engine receives them. */
export interface EngineContext {
  deps: EngineDeps;
  outbox: OutboxProtocol;
}

/** Audit records about market data (not a world) are filed under `market:<scope>`. */
export const MARKET_AUDIT_PREFIX = 'market:';

/** Appends an audit record about one delivery. */
export async function audit(
  ctx: EngineContext,
  r: {
    world_id: string;
    kind: AuditRecord['kind'];
    id: string;
    at: string;
    nowMs: number;
    extra: Record<string, unknown>;
  },
) {
  await ctx.deps.store.appendAudit({
    world_id: r.world_id,
    // Keyed by the delivery's own time and id, so a redelivered event is one record, not two.
    record_id: `${r.at}#${r.kind}#${r.id}`,
    kind: r.kind,
    recorded_at: new Date(r.nowMs).toISOString(),
    ...r.extra,
    expires_at: expiry(retentionOf(ctx, ctx.deps.auditRetentionDays)),
  });
}

function wallNow(ctx: EngineContext): number {
  return (ctx.deps.wallClock ?? Date.now)();
}

/** Retention from the wall clock at write time (see `Retention`). */
export function retentionOf(ctx: EngineContext, days: number): Retention {
  return { days, fromMs: wallNow(ctx) };
}
