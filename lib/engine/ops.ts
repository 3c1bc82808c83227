import type { ExitSignalEvent } from '../contracts/exit-signal.js';
import { DEFAULT_TTL_SEC } from '../contracts/risk-snapshot.js';
import { buildApprovedSignalEvent } from './build-event.js';
import { RetryableError } from './errors.js';
import { digest } from './ids.js';
import { OpsConflictError, OpsNotFoundError, OpsValidationError } from './ops-errors.js';
import {
  MuteOps,
  type MuteRequest,
  type MuteResult,
  type MuteView,
  type UnmuteRequest,
  type WorldCatalog,
} from './ops-mutes.js';
import type {
  ApprovalEntry,
  AuditRecord,
  EngineLogger,
  EngineMetrics,
  MuteRecord,
  OpsSignalItem,
  OpsStore,
  SignalPublisher,
  SignalQuery,
  SignalStatus,
} from './ports.js';
import { principalOf } from './principal.js';

export { formatDuration, parseDuration, parseTime } from './durations.js';
export * from './ops-errors.js';
export {
  catalogFrom,
  didYouMean,
  hasSelectors,
  type MuteRequest,
  type MuteResult,
  type MuteView,
  muteId,
  muteState,
  type UnmuteRequest,
  type WorldCatalog,
} from './ops-mutes.js';

/**
 * The ops use cases: approve or reject proposed signals, settle the ones nobody decided, mute and
 * unmute rules. Pure over ports; time is passed in. Publishing stays here (with the engine): an
 * approver's request decides, the engine's publisher puts the event on the bus.
 */

/** The actor the approval-timeout sweep decides as. */
export const TIMEOUT_ACTOR = 'system:approval-timeout';
const DAY_SECONDS = 86_400;
/** Statuses of a recommendation the gateway has received or is about to. */
const GATEWAY_BOUND = new Set<SignalStatus>(['published', 'pending_publish', 'approved']);

/** Some proposed signals could not be settled this sweep; the next run (or the retry) tries again. */
export class SweepIncompleteError extends RetryableError {
  override readonly name = 'SweepIncompleteError';
}

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

/** Throws when a sweep left signals unsettled, so the schedule's retry (and the error alarm) sees it. */
export function assertSweepComplete(result: SweepResult): void {
  if (result.failed.length === 0) return;
  throw new SweepIncompleteError(
    `approval timeout: ${result.failed.length} signal(s) not settled: ${result.failed.map((f) => `${f.signal_id} (${f.error})`).join('; ')}`,
  );
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

export type ApproveResult =
  | { outcome: 'awaiting_second_approval'; signal: OpsSignalItem }
  | { outcome: 'published'; signal: OpsSignalItem; event_id: string }
  /** Approved and stored; the publish failed or is held by another caller and will be completed. */
  | { outcome: 'approved_publish_pending'; signal: OpsSignalItem; event_id: string };

export interface SweepResult {
  emitted: string[];
  dropped: string[];
  /** Timed out on stale ground (snapshot long expired, or a newer recommendation exists): expired, never emitted. */
  stale: string[];
  republished: string[];
  failed: { signal_id: string; error: string }[];
  /** Proposed signals still waiting for a person. */
  pending: number;
  /** Age of the oldest signal still waiting for a person (0 when none). */
  oldest_pending_age_sec: number;
}

// ---------------------------------------------------------------------------------------------
// Pure rules (unit-tested on their own)

/**
 * The four-eyes decision for one more approval: record it and wait, or approve. Approvers are compared by
 * principal, not by session: the same role under two session names (or the same source identity) is one
 * person and is refused the second time.
 */
export function decideApproval(
  item: Pick<OpsSignalItem, 'signal_id' | 'approval' | 'approvals'>,
  entry: ApprovalEntry,
): { kind: 'first_of_two' | 'approved'; approvals: ApprovalEntry[] } {
  const previous = item.approvals ?? [];
  const principal = entry.principal ?? principalOf(entry.actor);
  const same = previous.find((a) => (a.principal ?? principalOf(a.actor)) === principal);
  if (same) {
    throw new OpsConflictError(
      `signal ${item.signal_id} needs two different approvers (four eyes) and ${principal} has already approved it (as ${same.actor}); a second person must approve`,
      'proposed',
    );
  }
  const approvals = [...previous, entry];
  const needed = item.approval?.four_eyes ? 2 : 1;
  return { kind: approvals.length >= needed ? 'approved' : 'first_of_two', approvals };
}

function required(field: string, value: string | undefined): string {
  const v = value?.trim();
  if (!v) throw new OpsValidationError(field, 'is required and must not be empty');
  return v;
}

// ---------------------------------------------------------------------------------------------

/** The ops use cases over the OpsStore and the engine's publisher. */
export class OpsService {
  private readonly mutes: MuteOps;

  constructor(private readonly deps: OpsDeps) {
    this.mutes = new MuteOps({
      store: deps.store,
      catalog: deps.catalog,
      metrics: deps.metrics,
      audit: (world, action, targetId, who, reason, nowMs, change) =>
        this.audit(world, action, targetId, who, reason, nowMs, change),
    });
  }

  /** Reads one signal; unknown ids are a 404 with the id in the message. */
  async getSignal(signalId: string): Promise<OpsSignalItem> {
    const id = required('signal_id', signalId);
    const item = await this.deps.store.getSignal(id);
    if (!item)
      throw new OpsNotFoundError(
        `no signal with id '${id}' (ids look like sig-xxxxxxxx-…; see 'signals list')`,
      );
    return item;
  }

  /** Lists signals, newest first. */
  listSignals(query: SignalQuery): Promise<OpsSignalItem[]> {
    return this.deps.store.listSignals(query);
  }

  /** The approval queue: proposed signals, soonest deadline first. */
  async pending(): Promise<OpsSignalItem[]> {
    const items = await this.deps.store.listSignals({ status: 'proposed' });
    return items.sort((a, b) => (a.approval?.deadline ?? '').localeCompare(b.approval?.deadline ?? ''));
  }

  /**
   * Approves a proposed signal. Four eyes: the first approval is recorded and the signal stays
   * proposed. The approval is stored with its event (`proposed → approved`, conditional), then the
   * event is published, then the row becomes `published`; a retry or the sweep finishes an
   * `approved` row, under a lease so the two never both publish it.
   */
  async approve(signalId: string, who: Actor): Promise<ApproveResult> {
    const actor = required('actor', who.actor);
    const reason = required('reason', who.reason);
    const principal = who.principal ?? principalOf(actor);
    const item = await this.getSignal(signalId);
    if (item.status === 'approved') return this.finishApproved(item, who.nowMs);
    this.assertProposed(item, 'approve');
    const deadlineMs = Date.parse(item.approval?.deadline ?? '');
    if (Number.isFinite(deadlineMs) && deadlineMs <= who.nowMs) {
      throw new OpsConflictError(
        `signal ${item.signal_id}: its approval deadline passed at ${item.approval?.deadline}; the rule's default (${item.approval?.default}) applies at the next approval-timeout sweep`,
        item.status,
      );
    }
    const at = new Date(who.nowMs).toISOString();
    const decision = decideApproval(item, { actor, principal, at, reason });
    if (decision.kind === 'first_of_two') {
      const audit = this.audit(
        item.world_id,
        'approve',
        item.signal_id,
        { actor, principal },
        reason,
        who.nowMs,
        {
          before: { status: item.status, approvals: item.approvals ?? [] },
          after: { status: 'proposed', approvals: decision.approvals },
          note: 'first of two approvals (four eyes); awaiting a second, different approver',
        },
      );
      await this.transitionOrExplain(item, {
        signal_id: item.signal_id,
        from: 'proposed',
        approvals_count: (item.approvals ?? []).length,
        set: { approvals: decision.approvals },
        audit,
      });
      this.deps.metrics.count('OpsActions', 1, { action: 'approve_first' });
      return { outcome: 'awaiting_second_approval', signal: { ...item, approvals: decision.approvals } };
    }
    return this.approveNow(
      item,
      decision.approvals,
      { actor, principal, reason, nowMs: who.nowMs },
      'approve',
    );
  }

  /** Rejects a proposed signal: it is closed, nothing is published. One rejection suffices, even with four eyes. */
  async reject(signalId: string, who: Actor): Promise<OpsSignalItem> {
    const actor = required('actor', who.actor);
    const reason = required('reason', who.reason);
    const item = await this.getSignal(signalId);
    this.assertProposed(item, 'reject');
    const at = new Date(who.nowMs).toISOString();
    const set = { status: 'rejected' as const, decided_by: actor, decided_at: at, decision_reason: reason };
    await this.transitionOrExplain(item, {
      signal_id: item.signal_id,
      from: 'proposed',
      set,
      audit: this.audit(
        item.world_id,
        'reject',
        item.signal_id,
        { actor, principal: who.principal ?? principalOf(actor) },
        reason,
        who.nowMs,
        {
          before: { status: item.status, approvals: item.approvals ?? [] },
          after: { status: 'rejected' },
        },
      ),
    });
    this.deps.metrics.count('OpsActions', 1, { action: 'reject' });
    return { ...item, ...set };
  }

  /**
   * The timeout sweep: every proposed signal past its deadline gets its rule's default (`emit` →
   * approved by system:approval-timeout and published; `drop` → expired), and every approved
   * signal whose publish did not complete is published. Each signal is settled on its own; one
   * failure does not stop the rest and is listed in `failed` (see `assertSweepComplete`).
   */
  async expireDue(nowMs: number): Promise<SweepResult> {
    const result: SweepResult = {
      emitted: [],
      dropped: [],
      stale: [],
      republished: [],
      failed: [],
      pending: 0,
      oldest_pending_age_sec: 0,
    };
    const { store, logger } = this.deps;
    let oldest = Number.POSITIVE_INFINITY;
    for (const item of await store.listSignals({ status: 'proposed' })) {
      const deadlineMs = Date.parse(item.approval?.deadline ?? item.emitted_at);
      if (deadlineMs > nowMs) {
        result.pending += 1;
        oldest = Math.min(oldest, Date.parse(item.emitted_at));
        continue;
      }
      try {
        await this.settleTimedOut(item, nowMs, result);
      } catch (error) {
        if (error instanceof OpsConflictError) continue; // a person or another sweep decided it meanwhile
        result.failed.push({ signal_id: item.signal_id, error: (error as Error).message });
        logger.error('approval timeout could not settle a signal', {
          signal_id: item.signal_id,
          error: (error as Error).message,
        });
      }
    }
    for (const item of await store.listSignals({ status: 'approved' })) {
      if ((item.publish_lease_until ?? 0) >= nowMs) continue; // its approver is publishing it now
      try {
        const out = await this.finishApproved(item, nowMs);
        if (out.outcome === 'published') result.republished.push(item.signal_id);
      } catch (error) {
        if (error instanceof OpsConflictError) continue;
        result.failed.push({ signal_id: item.signal_id, error: (error as Error).message });
      }
    }
    result.oldest_pending_age_sec = Number.isFinite(oldest)
      ? Math.max(0, Math.round((nowMs - oldest) / 1000))
      : 0;
    return result;
  }

  /** Silences a rule (or all rules) for a world or one strategy until a time, with a reason (see ops-mutes.ts). */
  mute(req: MuteRequest): Promise<MuteResult> {
    return this.mutes.mute(req);
  }

  /** The second approval a long or world-wide mute needs, from a different person. */
  approveMute(world: string, muteId: string, who: Actor): Promise<MuteRecord> {
    return this.mutes.approveMute(world, muteId, who);
  }

  /** Ends a mute by id, or every active mute of the world with exactly these selectors; needs a reason. */
  unmute(req: UnmuteRequest): Promise<MuteRecord[]> {
    return this.mutes.unmute(req);
  }

  /** Mutes of a world (or all worlds) with their state; active only unless `all`. */
  listMutes(world: string | undefined, nowMs: number, all = false): Promise<MuteView[]> {
    return this.mutes.listMutes(world, nowMs, all);
  }

  /** A world's audit records from `since` on, oldest first. */
  listAudit(world: string, since?: string, limit?: number): Promise<AuditRecord[]> {
    return this.deps.store.listAudit(required('world', world), since, limit);
  }

  /**
   * Why a timed-out proposal must not reach the gateway, if it must not: its snapshot expired longer
   * ago than the approval window (replayed history, or a sweep that did not run for a long time), or
   * the gateway has (or is getting) a newer recommendation for the same world and strategy.
   */
  private async staleReason(item: OpsSignalItem, nowMs: number): Promise<string | undefined> {
    const snapshotExpiresMs = Date.parse(
      item.approval?.snapshot_expires_at ??
        new Date(Date.parse(item.as_of) + DEFAULT_TTL_SEC * 1000).toISOString(),
    );
    const windowMs = (item.approval?.timeout_sec ?? 0) * 1000;
    if (Number.isFinite(snapshotExpiresMs) && nowMs > snapshotExpiresMs + windowMs) {
      return `its snapshot (as of ${item.as_of}) expired at ${new Date(snapshotExpiresMs).toISOString()}, longer ago than the approval window; a recommendation on expired data is never emitted`;
    }
    const newer = (
      await this.deps.store.listSignals({ world_id: item.world_id, since: item.emitted_at })
    ).find(
      (s) =>
        s.signal_id !== item.signal_id &&
        s.strategy_id === item.strategy_id &&
        GATEWAY_BOUND.has(s.status) &&
        Date.parse(s.as_of) > Date.parse(item.as_of),
    );
    return newer
      ? `a newer recommendation (${newer.signal_id}, as of ${newer.as_of}) exists for ${item.strategy_id}; the gateway never gets an older one after it`
      : undefined;
  }

  private async settleTimedOut(item: OpsSignalItem, nowMs: number, result: SweepResult): Promise<void> {
    const stale = await this.staleReason(item, nowMs);
    if (stale !== undefined) {
      const why = `approval deadline ${item.approval?.deadline} passed; expired without its default because ${stale}`;
      await this.expireTimedOut(item, 'timeout_stale', why, nowMs);
      this.deps.metrics.count('ApprovalTimeouts', 1, { default: 'stale' });
      result.stale.push(item.signal_id);
      return;
    }
    const fallback = item.approval?.default ?? 'drop';
    const why = `approval deadline ${item.approval?.deadline} passed without a decision; the rule's default is ${fallback}`;
    if (fallback === 'emit') {
      const approvals = [
        ...(item.approvals ?? []),
        { actor: TIMEOUT_ACTOR, at: new Date(nowMs).toISOString(), reason: why },
      ];
      await this.approveNow(item, approvals, { actor: TIMEOUT_ACTOR, reason: why, nowMs }, 'timeout_emit');
      result.emitted.push(item.signal_id);
      return;
    }
    await this.expireTimedOut(item, 'timeout_drop', why, nowMs);
    this.deps.metrics.count('ApprovalTimeouts', 1, { default: 'drop' });
    result.dropped.push(item.signal_id);
  }

  /** `proposed → expired` by the timeout sweep, audited under `kind` with its reason. */
  private async expireTimedOut(
    item: OpsSignalItem,
    kind: 'timeout_stale' | 'timeout_drop',
    why: string,
    nowMs: number,
  ): Promise<void> {
    const at = new Date(nowMs).toISOString();
    await this.transitionOrExplain(item, {
      signal_id: item.signal_id,
      from: 'proposed',
      set: { status: 'expired', decided_by: TIMEOUT_ACTOR, decided_at: at, decision_reason: why },
      audit: this.audit(
        item.world_id,
        kind,
        item.signal_id,
        { actor: TIMEOUT_ACTOR, principal: TIMEOUT_ACTOR },
        why,
        nowMs,
        {
          before: { status: 'proposed', approvals: item.approvals ?? [] },
          after: { status: 'expired' },
        },
      ),
    });
  }

  /** `proposed → approved` with the event to publish, then publish it. */
  private async approveNow(
    item: OpsSignalItem,
    approvals: ApprovalEntry[],
    who: Actor,
    action: 'approve' | 'timeout_emit',
  ): Promise<ApproveResult> {
    const at = new Date(who.nowMs).toISOString();
    const context = await this.deps.store.proposalContext(item);
    const event = buildApprovedSignalEvent(item, {
      approved_by: who.actor,
      approved_at: at,
      reason: who.reason,
      approvals,
      snapshot_event_version: context?.event_version ?? 1,
      evaluation_provenance: context?.provenance ?? {},
      engine_version: this.deps.engineVersion,
    });
    const set = {
      status: 'approved' as const,
      approvals,
      decided_by: who.actor,
      decided_at: at,
      decision_reason: who.reason,
      event_id: event.id,
      approved_event: event,
      publish_lease_until: who.nowMs + this.deps.leaseMs,
    };
    await this.transitionOrExplain(item, {
      signal_id: item.signal_id,
      from: 'proposed',
      approvals_count: (item.approvals ?? []).length,
      set,
      audit: this.audit(
        item.world_id,
        action,
        item.signal_id,
        { actor: who.actor, principal: who.principal ?? principalOf(who.actor) },
        who.reason,
        who.nowMs,
        {
          before: { status: item.status, approvals: item.approvals ?? [] },
          after: { status: 'approved', approvals, event_id: event.id },
        },
      ),
    });
    this.deps.metrics.count('OpsActions', 1, { action });
    return this.publishApproved({ ...item, ...set }, event, who.nowMs);
  }

  /** Completes an `approved` row: takes the publish lease (unless someone holds it), publishes, marks. */
  private async finishApproved(item: OpsSignalItem, nowMs: number): Promise<ApproveResult> {
    const event = item.approved_event as ExitSignalEvent | undefined;
    if (!event || !item.event_id) {
      throw new OpsConflictError(
        `signal ${item.signal_id} is approved but holds no event to publish`,
        item.status,
      );
    }
    const taken = await this.deps.store.transitionSignal({
      signal_id: item.signal_id,
      from: 'approved',
      lease_free_at: nowMs,
      set: { publish_lease_until: nowMs + this.deps.leaseMs },
    });
    if (!taken) return { outcome: 'approved_publish_pending', signal: item, event_id: item.event_id };
    return this.publishApproved(item, event, nowMs);
  }

  private async publishApproved(
    item: OpsSignalItem,
    event: ExitSignalEvent,
    nowMs: number,
  ): Promise<ApproveResult> {
    try {
      await this.deps.publisher.publish([event]);
    } catch (error) {
      // Give the lease back so the next sweep publishes it at once; the decision itself is stored.
      await this.deps.store
        .transitionSignal({ signal_id: item.signal_id, from: 'approved', set: { publish_lease_until: 0 } })
        .catch(() => false);
      this.deps.metrics.count('ApprovalPublishFailures', 1);
      this.deps.logger.error('approved signal not published yet; the approval-timeout sweep will retry', {
        signal_id: item.signal_id,
        event_id: event.id,
        error: (error as Error).message,
      });
      return { outcome: 'approved_publish_pending', signal: item, event_id: event.id };
    }
    const publishedAt = new Date(nowMs).toISOString();
    await this.deps.store.transitionSignal({
      signal_id: item.signal_id,
      from: 'approved',
      set: { status: 'published', published_at: publishedAt, publish_lease_until: 0 },
    });
    this.deps.metrics.count('SignalsEmitted', 1, { world: item.world_id, reason: item.reason });
    return {
      outcome: 'published',
      signal: { ...item, status: 'published', published_at: publishedAt },
      event_id: event.id,
    };
  }

  private assertProposed(item: OpsSignalItem, action: 'approve' | 'reject'): void {
    if (item.status === 'proposed') return;
    throw new OpsConflictError(describeNotProposed(item, action), item.status);
  }

  /** Applies a transition; when the row moved meanwhile, says what it is now. */
  private async transitionOrExplain(
    item: OpsSignalItem,
    t: Parameters<OpsStore['transitionSignal']>[0],
  ): Promise<void> {
    if (await this.deps.store.transitionSignal(t)) return;
    const now = await this.deps.store.getSignal(item.signal_id);
    if (now?.status === 'proposed') {
      throw new OpsConflictError(
        `signal ${item.signal_id} changed while this request ran (another approval was recorded); try again`,
        'proposed',
      );
    }
    throw new OpsConflictError(describeNotProposed(now ?? item, 'decide'), now?.status ?? item.status);
  }

  private audit(
    world: string,
    action: string,
    targetId: string,
    who: { actor: string; principal: string },
    reason: string,
    nowMs: number,
    change: { before: unknown; after: unknown; note?: string },
  ): AuditRecord {
    const at = new Date(nowMs).toISOString();
    const { actor, principal } = who;
    return {
      world_id: world,
      record_id: `${at}#ops_action#${action}:${targetId}:${digest(actor).slice(0, 8)}`,
      kind: 'ops_action',
      recorded_at: at,
      action,
      target: { type: action.includes('mute') ? 'mute' : 'signal', id: targetId },
      // Both identities: the caller exactly as authenticated, and the principal four eyes compared.
      actor,
      principal,
      reason,
      before: change.before,
      after: change.after,
      ...(change.note ? { note: change.note } : {}),
      expires_at: Math.floor(nowMs / 1000) + this.deps.auditRetentionDays * DAY_SECONDS,
    };
  }
}

function describeNotProposed(item: OpsSignalItem, action: string): string {
  const by = item.decided_by
    ? ` by ${item.decided_by}${item.decided_at ? ` at ${item.decided_at}` : ''}`
    : '';
  const what: Partial<Record<SignalStatus, string>> = {
    approved: `was already approved${by}; its publish is being completed`,
    published:
      item.mode === 'approval'
        ? `was already approved${by} and published`
        : 'was published without approval (enforce mode)',
    rejected: `was already rejected${by}`,
    expired: `expired without a decision${by} (its rule's default was drop)`,
    shadow: 'is a shadow-mode signal; it is never published and needs no decision',
    muted: 'was muted when it fired; it is stored for the record and needs no decision',
    pending_publish: 'is an enforce-mode signal being published; it needs no decision',
  };
  return `cannot ${action} signal ${item.signal_id}: it ${what[item.status] ?? `is ${item.status}`}; only proposed signals can be approved or rejected`;
}
