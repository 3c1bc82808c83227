import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import type { EpisodeState } from './episodes.js';
import type { ApprovedCut, Channel, Mute } from './evaluate.js';

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
  approval?: {
    timeout_sec: number;
    default: 'emit' | 'drop';
    four_eyes: boolean;
    deadline: string;
    /** When the snapshot behind the proposal stopped being fit to act on (`created_at + ttl_sec`). */
    snapshot_expires_at?: string;
  };
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
  /** The events to publish: exit_signal_emitted (in parts) and/or exit_signal_proposed. */
  events?: EngineEvent[];
  signal_items?: SignalItem[];
  /** Who holds the right to publish the outbox, and until when (wall-clock ms). */
  publish_owner?: string;
  publish_lease_until?: number;
  /** Ids of events already accepted by the bus (a partly failed publish is resumed, not repeated). */
  published_event_ids?: string[];
}

/** A claim attempt: won, or lost to the record that holds it (read in the same conditional write). */
export type ClaimResult = { claimed: true } | { claimed: false; current: EvaluationRecord | undefined };

/** A pending outbox whose publish lease ran out: what the sweeper completes. */
export interface StuckOutbox {
  world_id: string;
  evaluation_key: string;
  publish_lease_until: number;
  completed_at: string;
}

/** A snapshot's identity fields, exactly as the hub sent them (the rest of the snapshot is its body). */
export type SnapshotHead = Pick<
  SnapshotData,
  'world_id' | 'as_of' | 'version' | 'hash' | 'created_at' | 'ttl_sec' | 'event_version' | 'idempotency_key'
>;

/**
 * The latest snapshot a world has seen: its identity, not its body. The compact record every
 * snapshot rewrites (and every commit checks) stays ~1 write unit whatever the snapshot's size; the
 * body is kept apart, written only when its content changes, and read only by what needs it
 * (`EngineStore.getSnapshotData`).
 */
export interface LatestSnapshot {
  world_id: string;
  as_of: string;
  as_of_ms: number;
  version: string;
  trigger_key: string;
  source_event_id: string;
  /** `created_at + ttl_sec`: past it the snapshot is expired, decided without reading the body. */
  expires_at_ms: number;
  head: SnapshotHead;
  /** Where the store keeps the body: opaque to the engine, set by the store. */
  snapshot_ref?: string;
  /**
   * What of the body the store keeps, chosen from the rule set it was stored under (snapshot-reuse.ts):
   * `weights`, only the weights (what the mute catalog reads), when that rule set needs no later
   * evaluation; `positions`, the weights, constraints and provenance, when its later evaluations
   * re-run only market, liquidity and staleness rules. Absent: the whole body is kept.
   */
  body_kept?: 'weights' | 'positions';
  /** The as_of of the newest snapshot whose evaluation committed (never moves backwards). */
  evaluated_as_of_ms?: number;
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
  /**
   * The as_of of the snapshot this evaluation used: the commit is refused (`superseded`) only when
   * an evaluation of a newer snapshot committed first, so a stream of newer snapshots never starves
   * a world. NaN for a terminal commit without evaluation.
   */
  snapshot_as_of_ms: number;
  outcome: string;
  episodes: EpisodeState[];
  audit: AuditRecord;
  events: EngineEvent[];
  signal_items: SignalItem[];
}

export type AdvanceResult = 'advanced' | 'same' | 'older';

/** A world in the store's registry and what its latest snapshot record keeps of the body. */
export interface ListedWorld {
  world_id: string;
  /** As the latest record's `body_kept` (absent: the whole body). */
  body_kept?: 'weights' | 'positions';
}

/** Engine state and signals in DynamoDB. */
export interface EngineStore {
  getEvaluation(worldId: string, evaluationKey: string): Promise<EvaluationRecord | undefined>;
  /**
   * Conditional: moves the world's latest snapshot forward only (an older as_of never wins). The
   * body (`data` without its head) is stored first, apart, and only when its content changed.
   */
  advanceLatestSnapshot(latest: LatestSnapshot, data: SnapshotData): Promise<AdvanceResult>;
  /** The compact record (identity, no body); records written before it was compact read the same. */
  getLatestSnapshot(worldId: string): Promise<LatestSnapshot | undefined>;
  /**
   * The snapshot `latest` names (head and the body kept: whole, or the `positions` projection);
   * undefined when its body is no longer stored (TTL, long after the snapshot expired), when only its
   * weights were kept (`body_kept`), or, for an old full record, when the world moved on.
   */
  getSnapshotData(latest: LatestSnapshot): Promise<SnapshotData | undefined>;
  /** The weights of the snapshot `latest` names, whichever body was kept; undefined as above. */
  getSnapshotWeights(latest: LatestSnapshot): Promise<SnapshotData['weights'] | undefined>;
  /** Every world that has had a snapshot. */
  listWorlds(): Promise<string[]>;
  /**
   * The same worlds, each with what its latest snapshot record keeps (`LatestSnapshot.body_kept`), in
   * the one read `listWorlds` costs: what a market event without a `worlds` list fans out over.
   */
  listWorldsForMarket(): Promise<ListedWorld[]>;
  /**
   * Conditional create (or take-over of an expired lease, never of a live one); when someone else
   * holds it, the record as the refused write saw it.
   */
  claimEvaluation(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<ClaimResult>;
  /** Ends our claim early after a failure, so the retry need not wait out the lease. */
  releaseClaim(worldId: string, evaluationKey: string, owner: string): Promise<void>;
  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>>;
  loadMutes(worldId: string): Promise<Mute[]>;
  /**
   * The world's approval-mode cuts (exit or reduce) emitted at or after `since` that ops approved or
   * the timeout sweep emitted (status `approved` or `published`): what a cleared approval episode may hold.
   */
  loadApprovedCuts(worldId: string, since: string): Promise<ApprovedCut[]>;
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
  ): Promise<ClaimResult>;
  /**
   * The fence: true only while `owner` still holds the pending outbox with a lease running at least
   * until `holdUntilMs`. Checked immediately before PutEvents; a taken-over owner gets false.
   */
  fencePublish(worldId: string, evaluationKey: string, owner: string, holdUntilMs: number): Promise<boolean>;
  /**
   * Gives the right to publish back after a definite failure, so the retry need not wait out the
   * lease; events the bus did accept are remembered and not published again.
   */
  releasePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    publishedEventIds?: readonly string[],
  ): Promise<void>;
  /** Pending outboxes whose publish lease ended before `nowMs` (sparse index), oldest lease first. */
  listStuckOutboxes(nowMs: number, limit: number): Promise<StuckOutbox[]>;
  /** Idempotent create of signal rows; an existing row (maybe since approved) is left alone. */
  putSignals(items: readonly SignalItem[]): Promise<void>;
  /**
   * After the bus accepted an outbox: writes the rows of the signals it published, once, already
   * `published` (a row written `pending_publish` by an older version is moved on; any other row is
   * left alone), then marks the outbox published. Rows are never written pending and rewritten.
   */
  markPublished(
    worldId: string,
    evaluationKey: string,
    items: readonly SignalItem[],
    publishedAt: string,
  ): Promise<void>;
  /** Idempotent append (same record_id twice is one record). */
  appendAudit(record: AuditRecord): Promise<void>;
  putMarket(view: MarketScopeView & { source_event_id: string }): Promise<AdvanceResult>;
  loadMarket(scopes: readonly string[]): Promise<Map<string, MarketScopeView>>;
}

/** Puts events on the bus; must check every result entry and throw PublishError on what is left. */
export interface SignalPublisher {
  /**
   * With a deadline (wall-clock ms), no PutEvents call is started after it and none outlives it:
   * the fenced publish relies on this to finish inside its lease.
   */
  publish(events: readonly EngineEvent[], options?: { deadlineMs?: number }): Promise<void>;
}

/** The snapshot a `*_ref` belongs to: what the hub's lookup API needs to expand it. */
export interface RefOwner {
  world_id: string;
  version: string;
}

/** Reads `s3://`, `file://` references directly, and anything else through the hub's API when configured. */
export interface RefResolver {
  resolve(uri: string, field: string, owner: RefOwner): Promise<unknown>;
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

/** One approval of a proposed signal (four eyes keeps the first until a second, different actor approves). */
export interface ApprovalEntry {
  /** The caller as authenticated (full ARN, session name included). */
  actor: string;
  /** Who that is for four eyes: the ARN without the session, or the source identity (engine/principal.ts). */
  principal?: string;
  at: string;
  reason: string;
}

/** A signal row as ops see it: the engine's row plus what ops decisions added to it. */
export interface OpsSignalItem extends SignalItem {
  approvals?: ApprovalEntry[];
  decided_by?: string;
  decided_at?: string;
  decision_reason?: string;
  /** The exit_signal_emitted an approval publishes, stored with the `proposed → approved` transition. */
  approved_event?: EngineEvent;
  /** While set in the future, the approver holds the right to publish; the sweep waits. */
  publish_lease_until?: number;
}

/** A stored mute: a Mute plus when it was created and, once unmuted, when and by whom it ended. */
export interface MuteRecord extends Mute {
  created_at: string;
  /** The requester's principal (engine/principal.ts). */
  principal?: string;
  /** Who approved it: the requester, and a second person when the mute needed one. */
  approvals?: ApprovalEntry[];
  ended_at?: string;
  ended_by?: string;
  end_reason?: string;
}

/** A conditional change of one signal row, with the audit record that must land with it. */
export interface SignalTransition {
  signal_id: string;
  /** The row changes only while it is in this status. */
  from: SignalStatus;
  /** Four eyes: the row changes only while it holds exactly this many approvals. */
  approvals_count?: number;
  /** Publishing a retried approval: the row changes only when no one's publish lease is running. */
  lease_free_at?: number;
  set: Partial<Omit<OpsSignalItem, 'signal_id'>>;
  audit?: AuditRecord;
  /**
   * An approval of a cut: recorded with the change where the engine reads it consistently, so an
   * episode clearing right after still tells the approved strategy `hold` (adapters/dynamodb/approved-cut-items.ts).
   */
  approved_cut?: {
    world_id: string;
    strategy_id: string;
    rule_ids: string[];
    emitted_at: string;
    expires_at: number;
  };
}

export interface SignalQuery {
  world_id?: string;
  status?: SignalStatus;
  /** ISO time: only signals emitted at or after it. */
  since?: string;
  limit?: number;
}

/** What the ops use cases read and write: signal decisions, mutes, the audit trail. */
export interface OpsStore {
  getSignal(signalId: string): Promise<OpsSignalItem | undefined>;
  /** Newest first; by world (GSI by-world), by status (GSI by-status), or both. */
  listSignals(query: SignalQuery): Promise<OpsSignalItem[]>;
  /** Applies a transition and its audit record together; false when the row was not in the expected state. */
  transitionSignal(t: SignalTransition): Promise<boolean>;
  /** The snapshot event version and evaluation provenance behind a proposed signal, from its outbox. */
  proposalContext(
    signal: Pick<SignalItem, 'world_id' | 'evaluation_key' | 'signal_id'>,
  ): Promise<{ event_version: number; provenance: Record<string, unknown> } | undefined>;
  /** Conditional create; false when the mute id exists already (the same request repeated). */
  putMute(mute: MuteRecord, audit: AuditRecord): Promise<boolean>;
  getMute(worldId: string, muteId: string): Promise<MuteRecord | undefined>;
  /** Sets `ended_at` (once); false when it had ended already. */
  endMute(
    worldId: string,
    muteId: string,
    end: { ended_at: string; ended_by: string; end_reason: string },
    audit: AuditRecord,
  ): Promise<boolean>;
  /** Every mute of a world (or of all worlds), ended ones included. */
  listMutes(worldId?: string): Promise<MuteRecord[]>;
  /** Stores a mute that awaits a second approver (it silences nothing); false when it exists already. */
  putMuteRequest(request: MuteRecord, audit: AuditRecord): Promise<boolean>;
  getMuteRequest(worldId: string, muteId: string): Promise<MuteRecord | undefined>;
  /** Atomically: the request is removed and the mute becomes active; false when the request is gone. */
  activateMuteRequest(mute: MuteRecord, audit: AuditRecord): Promise<boolean>;
  /** Idempotent append (same record_id twice is one record). */
  appendAudit(record: AuditRecord): Promise<void>;
  /** Records of a world, oldest first, from `since` (ISO) on. */
  listAudit(worldId: string, since?: string, limit?: number): Promise<AuditRecord[]>;
  /** The world's risk episodes as the engine last committed them (a proposal stands only on an open one). */
  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>>;
}

/**
 * Where the engine gets a world's rule set: the bundled registry (replay, tests) or the runtime's
 * store-backed one (lib/rulesets/live-rule-sets.ts), which may have to read it first.
 */
export interface RuleSetSource {
  forWorld(worldId: string): RuleSet | undefined | Promise<RuleSet | undefined>;
}

/** One world to re-evaluate because market data for it changed (one delivery of its own). */
export interface MarketReevaluationRequest {
  worldId: string;
  /** The market CloudEvent's id: with the world and rule set version, the evaluation key. */
  marketEventId: string;
  marketScope: string;
  marketAsOf: string;
  /** The market delivery's evaluation time, which the world's evaluation runs as of in a replay. */
  requestedAtMs: number;
}

/**
 * Where the market path hands its per-world work: our bus (one event per world, each delivered, retried
 * and dead-lettered on its own), or a replay's in-memory queue. Resolves once every request is accepted;
 * a request it could not hand over throws a retryable error (the market delivery is retried and asks
 * again; what was already evaluated dedupes on its evaluation key).
 */
export interface MarketReevaluationQueue {
  request(requests: readonly MarketReevaluationRequest[]): Promise<void>;
}
