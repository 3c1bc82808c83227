import type { EngineEvent } from '../contracts/exit-signal.js';
import type { SnapshotData } from '../contracts/risk-snapshot.js';
import type { MarketScopeView } from '../rules/types.js';
import type { EpisodeState } from './episodes.js';
import type { Channel, Mute } from './evaluate.js';

/**
 * The engine's ports. Adapters implement them over DynamoDB, EventBridge and S3 (or in memory for
 * replay); the use cases see nothing else of the outside world.
 */

/** Lifecycle of a stored signal, as ops read it in the `status` attribute. */
export type SignalStatus =
  | 'pending_publish'
  | 'published'
  | 'proposed'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'shadow'
  | 'muted';

/** One row of the signals table: a recommendation for one strategy, readable without code. */
export interface SignalItem {
  signal_id: string;
  world_id: string;
  strategy_id: string;
  action: 'exit' | 'reduce' | 'hold';
  reduction_ratio: number;
  reason: string;
  status: SignalStatus;
  mode: Channel;
  emitted_at: string;
  as_of: string;
  snapshot_version: string;
  /** The CloudEvent id of the published (or to-be-published) exit_signal_emitted. */
  event_id?: string;
  evaluation_key: string;
  rule_ids: string[];
  severity: string;
  tags: string[];
  metrics: Record<string, unknown>;
  ruleset_version: string;
  approval?: { timeout_sec: number; default: 'emit' | 'drop'; four_eyes: boolean; deadline: string };
  mute_id?: string;
  published_at?: string;
  expires_at: number;
}

/** An evaluation claim, and after commit its outbox: what must be published. */
export interface EvaluationRecord {
  evaluation_key: string;
  world_id: string;
  status: 'in_progress' | 'completed';
  lease_owner: string;
  lease_until: number;
  outcome?: string;
  /** Set when the evaluation decided to publish; cleared to `published` once PutEvents succeeded. */
  outbox_status?: 'pending' | 'published' | 'none';
  /** The events to publish: exit_signal_emitted and/or exit_signal_proposed. */
  events?: EngineEvent[];
  signal_items?: SignalItem[];
}

/** The latest snapshot a world has seen, kept so market data can re-evaluate it. */
export interface LatestSnapshot {
  world_id: string;
  as_of: string;
  as_of_ms: number;
  version: string;
  trigger_key: string;
  source_event_id: string;
  data: SnapshotData;
}

/** An append-only audit record (evaluation, rejection, ops action). */
export interface AuditRecord {
  world_id: string;
  record_id: string;
  kind: 'evaluation' | 'rejection' | 'out_of_order' | 'expired' | 'superseded' | 'ops_action';
  recorded_at: string;
  [key: string]: unknown;
}

export interface EvaluationCommit {
  world_id: string;
  evaluation_key: string;
  lease_owner: string;
  /** With an event: the committing invocation holds the right to publish it until then. */
  publish_lease_until: number;
  /** The snapshot this evaluation used must still be the world's latest. */
  snapshot_as_of_ms: number;
  outcome: string;
  episodes: EpisodeState[];
  audit: AuditRecord;
  events: EngineEvent[];
  signal_items: SignalItem[];
}

export type AdvanceResult = 'advanced' | 'same' | 'older';

/** Engine state and signals in DynamoDB. */
export interface EngineStore {
  getEvaluation(worldId: string, evaluationKey: string): Promise<EvaluationRecord | undefined>;
  /** Conditional: moves the world's latest snapshot forward only (an older as_of never wins). */
  advanceLatestSnapshot(latest: LatestSnapshot): Promise<AdvanceResult>;
  getLatestSnapshot(worldId: string): Promise<LatestSnapshot | undefined>;
  /** Every world that has had a snapshot (market data without a `worlds` list concerns them all). */
  listWorlds(): Promise<string[]>;
  /** Conditional create (or take-over of an expired lease); false when someone else holds it. */
  claimEvaluation(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<boolean>;
  /** Ends our claim early after a failure, so the retry need not wait out the lease. */
  releaseClaim(worldId: string, evaluationKey: string, owner: string): Promise<void>;
  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>>;
  loadMutes(worldId: string): Promise<Mute[]>;
  /** Atomically: episodes (versioned), audit record, claim → completed with its outbox. */
  commitEvaluation(commit: EvaluationCommit): Promise<'committed' | 'conflict' | 'superseded'>;
  /**
   * Takes the right to publish a pending outbox (a retry after a crash), unless its holder's lease
   * is still running: two invocations must never both publish it.
   */
  acquirePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<boolean>;
  /** Gives the right to publish back after a failed attempt, so the retry need not wait out the lease. */
  releasePublish(worldId: string, evaluationKey: string, owner: string): Promise<void>;
  /** Idempotent create of signal rows; an existing row (maybe since approved) is left alone. */
  putSignals(items: readonly SignalItem[]): Promise<void>;
  markPublished(
    worldId: string,
    evaluationKey: string,
    signalIds: readonly string[],
    publishedAt: string,
  ): Promise<void>;
  /** Idempotent append (same record_id twice is one record). */
  appendAudit(record: AuditRecord): Promise<void>;
  putMarket(view: MarketScopeView & { source_event_id: string }): Promise<AdvanceResult>;
  loadMarket(scopes: readonly string[]): Promise<Map<string, MarketScopeView>>;
}

/** Puts events on the bus; must check every result entry and throw PublishError on what is left. */
export interface SignalPublisher {
  publish(events: readonly EngineEvent[]): Promise<void>;
}

/** Reads `s3://`, `file://` (and refuses `redis://` with a reason) references. */
export interface RefResolver {
  resolve(uri: string, field: string): Promise<unknown>;
}

/** Counters and measures the use case reports; Powertools Metrics in Lambda. */
export interface EngineMetrics {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  measure(name: string, value: number, unit: 'Milliseconds' | 'Seconds' | 'Count' | 'None'): void;
}

/** Structured logging; Powertools Logger in Lambda. */
export interface EngineLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}
