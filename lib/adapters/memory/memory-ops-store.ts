import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { EpisodeState } from '#lib/engine/episodes.js';
import type {
  AuditRecord,
  MuteRecord,
  OpsSignalItem,
  OpsStore,
  SignalItem,
  SignalQuery,
  SignalTransition,
} from '#lib/engine/ports.js';
import { toStorable } from '../dynamodb/storable.js';

const key = (...parts: readonly string[]) => parts.join('\u0000');
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The ops store in memory, for the ops use cases' unit tests: each condition the DynamoDB ops
 * store puts on a write (status, approval count, publish lease, mute created once, ended once) is
 * checked the same way, and a change and its audit record land together or not at all.
 * Deterministic: no clock, no random.
 */
export class InMemoryOpsStore implements OpsStore {
  private readonly signals = new Map<string, OpsSignalItem>();
  private readonly mutes = new Map<string, MuteRecord>();
  /** Mutes waiting for a second person (the DynamoDB store keeps them under their own sort-key prefix). */
  private readonly muteRequests = new Map<string, MuteRecord>();
  private readonly audit = new Map<string, AuditRecord>();
  private readonly outboxes = new Map<string, EngineEvent[]>();
  /** Where episodes come from: the engine's in-memory store when one is connected (replay), else none. */
  episodeSource: (worldId: string) => Promise<Map<string, EpisodeState>> = async () => new Map();

  /**
   * What the engine's outbox write does to the signals table: creates rows that do not exist yet
   * and leaves an existing row (maybe since decided by ops) alone.
   */
  putSignals(items: readonly SignalItem[]): void {
    for (const item of items) {
      if (!this.signals.has(item.signal_id)) this.signals.set(item.signal_id, copy(toStorable(item)));
    }
  }

  /** The events an evaluation committed to its outbox (what `proposalContext` reads). */
  putOutbox(worldId: string, evaluationKey: string, events: readonly EngineEvent[]): void {
    this.outboxes.set(key(worldId, evaluationKey), copy([...events]));
  }

  async getSignal(signalId: string): Promise<OpsSignalItem | undefined> {
    const item = this.signals.get(signalId);
    return item ? copy(item) : undefined;
  }

  async listSignals(q: SignalQuery): Promise<OpsSignalItem[]> {
    const items = [...this.signals.values()]
      .filter(
        (s) =>
          (q.world_id === undefined || s.world_id === q.world_id) &&
          (q.status === undefined || s.status === q.status) &&
          (q.since === undefined || s.emitted_at >= q.since),
      )
      .sort((a, b) => b.emitted_at.localeCompare(a.emitted_at));
    return (q.limit === undefined ? items : items.slice(0, q.limit)).map(copy);
  }

  async transitionSignal(t: SignalTransition): Promise<boolean> {
    const row = this.signals.get(t.signal_id);
    if (row?.status !== t.from) return false;
    if (t.approvals_count !== undefined && (row.approvals ?? []).length !== t.approvals_count) return false;
    if (t.lease_free_at !== undefined && !((row.publish_lease_until ?? -Infinity) < t.lease_free_at))
      return false;
    if (t.audit) this.assertNewAudit(t.audit);
    const changes = Object.fromEntries(Object.entries(t.set).filter(([, v]) => v !== undefined));
    this.signals.set(t.signal_id, { ...row, ...copy(toStorable(changes)) });
    if (t.audit) this.audit.set(key(t.audit.world_id, t.audit.record_id), copy(toStorable(t.audit)));
    return true;
  }

  async proposalContext(
    signal: Pick<SignalItem, 'world_id' | 'evaluation_key' | 'signal_id'>,
  ): Promise<{ event_version: number; provenance: Record<string, unknown> } | undefined> {
    // As in DynamoDB: the row keeps a prefix of the evaluation key; the outbox's key starts with it.
    for (const [k, events] of this.outboxes) {
      if (!k.startsWith(key(signal.world_id, signal.evaluation_key))) continue;
      const proposed =
        events.find(
          (e) =>
            e.type === 'exit_signal_proposed' &&
            e.data.proposals.some((p) => p.signal_id === signal.signal_id),
        ) ?? events[0];
      if (proposed) {
        return { event_version: proposed.data.event_version, provenance: proposed.data.provenance ?? {} };
      }
    }
    return undefined;
  }

  async putMute(mute: MuteRecord, audit: AuditRecord): Promise<boolean> {
    const k = key(mute.world_id, mute.mute_id);
    if (this.mutes.has(k)) return false;
    this.assertNewAudit(audit);
    this.mutes.set(k, copy(toStorable(mute)));
    this.audit.set(key(audit.world_id, audit.record_id), copy(toStorable(audit)));
    return true;
  }

  async putMuteRequest(request: MuteRecord, audit: AuditRecord): Promise<boolean> {
    const k = key(request.world_id, request.mute_id);
    if (this.muteRequests.has(k)) return false;
    this.assertNewAudit(audit);
    this.muteRequests.set(k, copy(toStorable(request)));
    this.audit.set(key(audit.world_id, audit.record_id), copy(toStorable(audit)));
    return true;
  }

  async getMuteRequest(worldId: string, muteId: string): Promise<MuteRecord | undefined> {
    const request = this.muteRequests.get(key(worldId, muteId));
    return request ? copy(request) : undefined;
  }

  async activateMuteRequest(mute: MuteRecord, audit: AuditRecord): Promise<boolean> {
    const k = key(mute.world_id, mute.mute_id);
    if (!this.muteRequests.has(k) || this.mutes.has(k)) return false;
    this.assertNewAudit(audit);
    this.muteRequests.delete(k);
    this.mutes.set(k, copy(toStorable(mute)));
    this.audit.set(key(audit.world_id, audit.record_id), copy(toStorable(audit)));
    return true;
  }

  async getMute(worldId: string, muteId: string): Promise<MuteRecord | undefined> {
    const mute = this.mutes.get(key(worldId, muteId));
    return mute ? copy(mute) : undefined;
  }

  async endMute(
    worldId: string,
    muteId: string,
    end: { ended_at: string; ended_by: string; end_reason: string },
    audit: AuditRecord,
  ): Promise<boolean> {
    const k = key(worldId, muteId);
    const mute = this.mutes.get(k);
    if (!mute || mute.ended_at !== undefined) return false;
    this.assertNewAudit(audit);
    this.mutes.set(k, { ...mute, ...end });
    this.audit.set(key(audit.world_id, audit.record_id), copy(toStorable(audit)));
    return true;
  }

  async listMutes(worldId?: string): Promise<MuteRecord[]> {
    return [...this.mutes.values()].filter((m) => worldId === undefined || m.world_id === worldId).map(copy);
  }

  loadEpisodes(worldId: string): Promise<Map<string, EpisodeState>> {
    return this.episodeSource(worldId);
  }

  async appendAudit(record: AuditRecord): Promise<void> {
    const k = key(record.world_id, record.record_id);
    if (!this.audit.has(k)) this.audit.set(k, copy(toStorable(record)));
  }

  async listAudit(worldId: string, since?: string, limit?: number): Promise<AuditRecord[]> {
    const records = [...this.audit.values()]
      .filter((r) => r.world_id === worldId && (since === undefined || r.record_id >= since))
      .sort((a, b) => a.record_id.localeCompare(b.record_id));
    return (limit === undefined ? records : records.slice(0, limit)).map(copy);
  }

  /** A change whose audit record exists already is refused whole, as the DynamoDB transaction is. */
  private assertNewAudit(audit: AuditRecord): void {
    if (this.audit.has(key(audit.world_id, audit.record_id))) {
      throw new Error(`audit record ${audit.record_id} of world ${audit.world_id} exists already`);
    }
  }
}
