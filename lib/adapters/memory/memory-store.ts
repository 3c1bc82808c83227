import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import { type EpisodeState, episodeKey } from '#lib/engine/episodes.js';
import { EvaluationInProgressError } from '#lib/engine/errors.js';
import {
  type ApprovedCut,
  activeMutes,
  approvedCutOf,
  isApprovedCut,
  type Mute,
} from '#lib/engine/evaluate.js';
import { digest } from '#lib/engine/ids.js';
import type {
  AdvanceResult,
  AuditRecord,
  ClaimResult,
  EngineStore,
  EvaluationCommit,
  EvaluationRecord,
  LatestSnapshot,
  ListedWorld,
  SignalItem,
  StuckOutbox,
} from '#lib/engine/ports.js';
import { joinSnapshot, keptBody } from '#lib/engine/records.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { toStorable } from '../dynamodb/storable.js';

/** A row of the evaluation table as DynamoDB would hold it (an unconditional update may create one). */
interface EvaluationRow {
  status?: EvaluationRecord['status'];
  lease_owner?: string;
  lease_until?: number;
  outcome?: string;
  outbox_status?: EvaluationRecord['outbox_status'];
  events_json?: string;
  signal_items_json?: string;
  publish_owner?: string;
  publish_lease_until?: number;
  published_at?: string;
  published_event_ids?: string[];
  completed_at?: string;
  world_id?: string;
}

interface MarketRow {
  as_of: string;
  as_of_ms: number;
  source_event_id: string;
  indicators_json: string;
  series_json: string;
}

/** A mute as the state table keeps it: ended early by ops when `ended_at` is set. */
export type StoredMute = Mute & { ended_at?: string };

const key = (...parts: readonly string[]) => parts.join('\u0000');
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The engine's store in memory, for replay and tests: every condition the DynamoDB store puts on a
 * write is checked here the same way and mapped to the same outcome, and values are copied in and
 * out as they would be serialized, so nothing the engine holds aliases stored state. Deterministic:
 * no clock, no random; reads list in insertion order.
 */
export class InMemoryEngineStore implements EngineStore {
  private readonly evaluations = new Map<string, EvaluationRow>();
  private readonly latest = new Map<string, LatestSnapshot>();
  /** Snapshot bodies as JSON, by world and content digest. */
  private readonly bodies = new Map<string, string>();
  private readonly worlds = new Set<string>();
  private readonly episodes = new Map<string, Map<string, EpisodeState>>();
  private readonly mutes = new Map<string, StoredMute[]>();
  private readonly signals = new Map<string, SignalItem>();
  private readonly audit = new Map<string, AuditRecord>();
  private readonly market = new Map<string, MarketRow>();

  /**
   * With `onAudit`, each new audit record is handed over as it is stored and only its key is kept
   * (enough to refuse a duplicate), so a long replay holds no audit bodies; `allAudit` then lists
   * only keys and kinds.
   */
  constructor(private readonly options: { onAudit?: (record: AuditRecord) => void } = {}) {}

  private keepAudit(k: string, record: AuditRecord): void {
    const stored = copy(toStorable(record));
    if (!this.options.onAudit) {
      this.audit.set(k, stored);
      return;
    }
    this.audit.set(k, {
      world_id: stored.world_id,
      record_id: stored.record_id,
      kind: stored.kind,
    } as AuditRecord);
    this.options.onAudit(stored);
  }

  async getEvaluation(worldId: string, evaluationKey: string): Promise<EvaluationRecord | undefined> {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    if (!row) return undefined;
    return {
      evaluation_key: evaluationKey,
      world_id: worldId,
      status: row.status as EvaluationRecord['status'],
      lease_owner: row.lease_owner as string,
      lease_until: row.lease_until as number,
      outcome: row.outcome,
      outbox_status: row.outbox_status,
      ...(row.events_json ? { events: JSON.parse(row.events_json) as EngineEvent[] } : {}),
      ...(row.signal_items_json ? { signal_items: JSON.parse(row.signal_items_json) as SignalItem[] } : {}),
      ...(row.publish_owner !== undefined ? { publish_owner: row.publish_owner } : {}),
      ...(row.publish_lease_until !== undefined ? { publish_lease_until: row.publish_lease_until } : {}),
      ...(row.published_event_ids ? { published_event_ids: [...row.published_event_ids].sort() } : {}),
    };
  }

  /** The record as a refused conditional write returns it (no outbox bodies). */
  private refused(worldId: string, evaluationKey: string): ClaimResult {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    if (!row) return { claimed: false, current: undefined };
    return {
      claimed: false,
      current: {
        evaluation_key: evaluationKey,
        world_id: worldId,
        status: row.status as EvaluationRecord['status'],
        lease_owner: row.lease_owner as string,
        lease_until: row.lease_until as number,
        ...(row.outbox_status !== undefined ? { outbox_status: row.outbox_status } : {}),
        ...(row.publish_owner !== undefined ? { publish_owner: row.publish_owner } : {}),
        ...(row.publish_lease_until !== undefined ? { publish_lease_until: row.publish_lease_until } : {}),
      },
    };
  }

  /** As the DynamoDB store: the compact record forward only, the body apart and keyed by its content. */
  async advanceLatestSnapshot(latest: LatestSnapshot, data: SnapshotData): Promise<AdvanceResult> {
    const current = this.latest.get(latest.world_id);
    if (current && !(current.as_of_ms < latest.as_of_ms)) {
      return current.as_of_ms === latest.as_of_ms && current.version === latest.version ? 'same' : 'older';
    }
    const bodyJson = JSON.stringify(keptBody(data, latest.body_kept));
    const ref = `SNAPSHOT#${digest('snapshot-body', bodyJson)}`;
    this.bodies.set(key(latest.world_id, ref), bodyJson);
    // Memory holds no TTL: the body the record leaves goes now, so a long replay keeps one per world.
    if (current?.snapshot_ref && current.snapshot_ref !== ref)
      this.bodies.delete(key(latest.world_id, current.snapshot_ref));
    const { evaluated_as_of_ms: _ignored, ...identity } = copy(latest);
    this.latest.set(latest.world_id, {
      ...identity,
      snapshot_ref: ref,
      ...(current?.evaluated_as_of_ms !== undefined
        ? { evaluated_as_of_ms: current.evaluated_as_of_ms }
        : {}),
    });
    this.worlds.add(latest.world_id);
    return 'advanced';
  }

  async getLatestSnapshot(worldId: string): Promise<LatestSnapshot | undefined> {
    const current = this.latest.get(worldId);
    return current ? copy(current) : undefined;
  }

  async getSnapshotData(latest: LatestSnapshot): Promise<SnapshotData | undefined> {
    if (latest.body_kept === 'weights') return undefined;
    const body = latest.snapshot_ref && this.bodies.get(key(latest.world_id, latest.snapshot_ref));
    return body ? joinSnapshot(copy(latest.head), JSON.parse(body)) : undefined;
  }

  async getSnapshotWeights(latest: LatestSnapshot): Promise<SnapshotData['weights'] | undefined> {
    const body = latest.snapshot_ref && this.bodies.get(key(latest.world_id, latest.snapshot_ref));
    return body ? (JSON.parse(body) as Pick<SnapshotData, 'weights'>).weights : undefined;
  }

  /** How many snapshot bodies are stored (the latest one per world). */
  snapshotBodies(): number {
    return this.bodies.size;
  }

  async listWorlds(): Promise<string[]> {
    return [...this.worlds].sort();
  }

  async listWorldsForMarket(): Promise<ListedWorld[]> {
    return (await this.listWorlds()).map((world_id) => {
      const kept = this.latest.get(world_id)?.body_kept;
      return kept ? { world_id, body_kept: kept } : { world_id };
    });
  }

  async claimEvaluation(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<ClaimResult> {
    const k = key(worldId, evaluationKey);
    const row = this.evaluations.get(k);
    // A claim whose holder crashed is taken over once its lease has run out, never before.
    if (row && !(row.status === 'in_progress' && (row.lease_until ?? 0) < nowMs))
      return this.refused(worldId, evaluationKey);
    this.evaluations.set(k, {
      status: 'in_progress',
      lease_owner: owner,
      lease_until: leaseUntilMs,
      world_id: worldId,
    });
    return { claimed: true };
  }

  async releaseClaim(worldId: string, evaluationKey: string, owner: string): Promise<void> {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    if (row?.status === 'in_progress' && row.lease_owner === owner) row.lease_until = 0;
  }

  async loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>> {
    const stored = this.episodes.get(worldId) ?? new Map<string, EpisodeState>();
    return new Map([...stored].map(([k, v]) => [k, copy(v)]));
  }

  async loadMutes(worldId: string): Promise<Mute[]> {
    return activeMutes(this.mutes.get(worldId) ?? []);
  }

  async loadApprovedCuts(worldId: string, since: string): Promise<ApprovedCut[]> {
    return [...this.signals.values()]
      .filter((s) => s.world_id === worldId && s.emitted_at >= since && isApprovedCut(s))
      .map(approvedCutOf);
  }

  /** Stores a mute (or replaces one with the same id), as the ops path writes it. */
  putMute(mute: StoredMute): void {
    const list = (this.mutes.get(mute.world_id) ?? []).filter((m) => m.mute_id !== mute.mute_id);
    list.push(copy(mute));
    this.mutes.set(mute.world_id, list);
  }

  /**
   * All or nothing, like the DynamoDB transaction: every condition is checked before anything is
   * written. A lost claim throws (as a cancelled transaction does), a moved latest snapshot is
   * `superseded`, any episode or audit condition failing is `conflict`.
   */
  async commitEvaluation(commit: EvaluationCommit): Promise<'committed' | 'conflict' | 'superseded'> {
    const evalKey = key(commit.world_id, commit.evaluation_key);
    const claim = this.evaluations.get(evalKey);
    if (!(claim?.status === 'in_progress' && claim.lease_owner === commit.lease_owner)) {
      throw new EvaluationInProgressError(
        `claim on evaluation ${commit.evaluation_key.slice(0, 16)} was taken over`,
      );
    }
    const latest = this.latest.get(commit.world_id);
    if (!Number.isNaN(commit.snapshot_as_of_ms)) {
      // Superseded only once an evaluation of a newer snapshot has committed (see the DynamoDB store).
      const evaluated = latest?.evaluated_as_of_ms;
      if (!latest || (evaluated !== undefined && !(evaluated <= commit.snapshot_as_of_ms)))
        return 'superseded';
    }
    const stored = this.episodes.get(commit.world_id) ?? new Map<string, EpisodeState>();
    for (const episode of commit.episodes) {
      const current = stored.get(episodeKey(episode.rule_id, episode.scope_key));
      const ok = episode.version === 0 ? current === undefined : current?.version === episode.version;
      if (!ok) return 'conflict';
    }
    const auditKey = key(commit.audit.world_id, commit.audit.record_id);
    if (this.audit.has(auditKey)) return 'conflict';

    const hasEvents = commit.events.length > 0;
    if (latest && !Number.isNaN(commit.snapshot_as_of_ms))
      latest.evaluated_as_of_ms = commit.snapshot_as_of_ms;
    this.evaluations.set(evalKey, {
      ...claim,
      completed_at: commit.audit.recorded_at,
      status: 'completed',
      outcome: commit.outcome,
      outbox_status: hasEvents ? 'pending' : 'none',
      ...(hasEvents
        ? {
            events_json: JSON.stringify(commit.events),
            signal_items_json: JSON.stringify(toStorable(commit.signal_items)),
            publish_owner: commit.lease_owner,
            publish_lease_until: commit.publish_lease_until,
          }
        : {}),
    });
    for (const episode of commit.episodes) {
      stored.set(
        episodeKey(episode.rule_id, episode.scope_key),
        toStorable({ ...copy(episode), version: episode.version + 1 }),
      );
    }
    this.episodes.set(commit.world_id, stored);
    this.keepAudit(auditKey, commit.audit);
    return 'committed';
  }

  async acquirePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<ClaimResult> {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    if (row?.outbox_status !== 'pending') return this.refused(worldId, evaluationKey);
    if (row.publish_lease_until !== undefined && !(row.publish_lease_until < nowMs))
      return this.refused(worldId, evaluationKey);
    row.publish_owner = owner;
    row.publish_lease_until = leaseUntilMs;
    return { claimed: true };
  }

  async fencePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    holdUntilMs: number,
  ): Promise<boolean> {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    return (
      row?.outbox_status === 'pending' &&
      row.publish_owner === owner &&
      row.publish_lease_until !== undefined &&
      row.publish_lease_until >= holdUntilMs
    );
  }

  async releasePublish(
    worldId: string,
    evaluationKey: string,
    owner: string,
    publishedEventIds: readonly string[] = [],
  ): Promise<void> {
    const row = this.evaluations.get(key(worldId, evaluationKey));
    if (row && row.publish_owner === owner && row.outbox_status === 'pending') {
      row.publish_lease_until = 0;
      if (publishedEventIds.length > 0)
        row.published_event_ids = [...new Set([...(row.published_event_ids ?? []), ...publishedEventIds])];
    }
  }

  async listStuckOutboxes(nowMs: number, limit: number): Promise<StuckOutbox[]> {
    const stuck: StuckOutbox[] = [];
    for (const [k, row] of this.evaluations) {
      if (row.outbox_status !== 'pending' || !((row.publish_lease_until ?? 0) < nowMs)) continue;
      const [worldId, evaluationKey] = k.split('\u0000') as [string, string];
      stuck.push({
        world_id: worldId,
        evaluation_key: evaluationKey,
        publish_lease_until: row.publish_lease_until ?? 0,
        completed_at: row.completed_at ?? '',
      });
    }
    return stuck.sort((a, b) => a.publish_lease_until - b.publish_lease_until).slice(0, limit);
  }

  async putSignals(items: readonly SignalItem[]): Promise<void> {
    for (const item of items) {
      if (!this.signals.has(item.signal_id)) this.signals.set(item.signal_id, copy(toStorable(item)));
    }
  }

  async markPublished(
    worldId: string,
    evaluationKey: string,
    items: readonly SignalItem[],
    publishedAt: string,
  ): Promise<void> {
    for (const item of items) {
      const row = this.signals.get(item.signal_id);
      if (row === undefined || row.status === 'pending_publish')
        this.signals.set(
          item.signal_id,
          copy(toStorable({ ...item, status: 'published' as const, published_at: publishedAt })),
        );
    }
    // Unconditional, as in DynamoDB: an update without a condition creates the row if it is missing.
    const k = key(worldId, evaluationKey);
    const row = this.evaluations.get(k) ?? {};
    row.outbox_status = 'published';
    row.published_at = publishedAt;
    this.evaluations.set(k, row);
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    const k = key(record.world_id, record.record_id);
    if (!this.audit.has(k)) this.keepAudit(k, record);
  }

  async putMarket(view: MarketScopeView & { source_event_id: string }): Promise<AdvanceResult> {
    const current = this.market.get(view.scope);
    if (current && !(current.as_of_ms < view.asOfMs)) {
      return current.as_of_ms === view.asOfMs && current.source_event_id === view.source_event_id
        ? 'same'
        : 'older';
    }
    this.market.set(view.scope, {
      as_of: view.as_of,
      as_of_ms: view.asOfMs,
      source_event_id: view.source_event_id,
      indicators_json: JSON.stringify(view.indicators),
      series_json: JSON.stringify(view.series),
    });
    return 'advanced';
  }

  async loadMarket(scopes: readonly string[]): Promise<Map<string, MarketScopeView>> {
    const map = new Map<string, MarketScopeView>();
    for (const scope of scopes) {
      const row = this.market.get(scope);
      if (!row) continue;
      map.set(scope, {
        scope,
        as_of: row.as_of,
        asOfMs: row.as_of_ms,
        indicators: JSON.parse(row.indicators_json),
        series: JSON.parse(row.series_json),
      });
    }
    return map;
  }

  /** Moves a signal row to a status, as an ops decision (approve, reject, timeout) writes it. */
  setSignalStatus(signalId: string, status: SignalItem['status']): void {
    const row = this.signals.get(signalId);
    if (!row) throw new Error(`no signal ${signalId}`);
    row.status = status;
  }

  /** Every stored signal row, in the order first stored (what ops would scan). */
  allSignals(): SignalItem[] {
    return [...this.signals.values()].map(copy);
  }

  /** Every audit record, in the order appended. */
  allAudit(): AuditRecord[] {
    return [...this.audit.values()].map(copy);
  }
}
