import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { buildApprovedSignalEvent } from './build-event.js';
import { opsAudit } from './ops-audit.js';
import { type Actor, findSignal, type OpsDeps, required } from './ops-context.js';
import { OpsConflictError } from './ops-errors.js';
import type { ApprovalEntry, OpsSignalItem, OpsStore, SignalStatus } from './ports.js';
import { principalOf } from './principal.js';
import { proposalOverReason } from './proposal-ground.js';

/**
 * The approval path: a person approves (four eyes: two different principals where the rule asks) or
 * rejects a proposed signal; an approval stores the decision with its event, then publishes it under
 * a lease so a retry or the timeout sweep never publishes it twice.
 */

export type ApproveResult =
  | { outcome: 'awaiting_second_approval'; signal: OpsSignalItem }
  | { outcome: 'published'; signal: OpsSignalItem; event_id: string }
  /** Approved and stored; the publish failed or is held by another caller and will be completed. */
  | { outcome: 'approved_publish_pending'; signal: OpsSignalItem; event_id: string };

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

/**
 * Approves a proposed signal. Four eyes: the first approval is recorded and the signal stays
 * proposed. The approval is stored with its event (`proposed → approved`, conditional), then the
 * event is published, then the row becomes `published`; a retry or the sweep finishes an
 * `approved` row, under a lease so the two never both publish it.
 */
export async function approve(deps: OpsDeps, signalId: string, who: Actor): Promise<ApproveResult> {
  const actor = required('actor', who.actor);
  const reason = required('reason', who.reason);
  const principal = who.principal ?? principalOf(actor);
  const item = await findSignal(deps, signalId);
  if (item.status === 'approved') return finishApproved(deps, item, who.nowMs);
  assertProposed(item, 'approve');
  const deadlineMs = Date.parse(item.approval?.deadline ?? '');
  if (Number.isFinite(deadlineMs) && deadlineMs <= who.nowMs) {
    throw new OpsConflictError(
      `signal ${item.signal_id}: its approval deadline passed at ${item.approval?.deadline}; the rule's default (${item.approval?.default}) applies at the next approval-timeout sweep`,
      item.status,
    );
  }
  const over = proposalOverReason(item, await deps.store.loadEpisodes(item.world_id));
  if (over !== undefined) {
    // Refused and closed at once (audited, naming who tried), rather than left for the sweep.
    await expireProposal(deps, item, {
      kind: 'episode_over',
      why: `${over}; approval by ${actor} refused, a cut nothing is breaching is never emitted`,
      nowMs: who.nowMs,
    });
    throw new OpsConflictError(
      `cannot approve signal ${item.signal_id}: ${over}. It is now expired; a new breach makes a new proposal`,
      'expired',
    );
  }
  const at = new Date(who.nowMs).toISOString();
  const decision = decideApproval(item, { actor, principal, at, reason });
  if (decision.kind === 'first_of_two') {
    const audit = opsAudit(
      deps,
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
    await transitionOrExplain(deps, item, {
      signal_id: item.signal_id,
      from: 'proposed',
      approvals_count: (item.approvals ?? []).length,
      set: { approvals: decision.approvals },
      audit,
    });
    deps.metrics.count('OpsActions', 1, { action: 'approve_first' });
    return { outcome: 'awaiting_second_approval', signal: { ...item, approvals: decision.approvals } };
  }
  return approveNow(
    deps,
    item,
    decision.approvals,
    { actor, principal, reason, nowMs: who.nowMs },
    'approve',
  );
}

/** Rejects a proposed signal: it is closed, nothing is published. One rejection suffices, even with four eyes. */
export async function reject(deps: OpsDeps, signalId: string, who: Actor): Promise<OpsSignalItem> {
  const actor = required('actor', who.actor);
  const reason = required('reason', who.reason);
  const item = await findSignal(deps, signalId);
  assertProposed(item, 'reject');
  const at = new Date(who.nowMs).toISOString();
  const set = { status: 'rejected' as const, decided_by: actor, decided_at: at, decision_reason: reason };
  await transitionOrExplain(deps, item, {
    signal_id: item.signal_id,
    from: 'proposed',
    set,
    audit: opsAudit(
      deps,
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
  deps.metrics.count('OpsActions', 1, { action: 'reject' });
  return { ...item, ...set };
}

/** `proposed → approved` with the event to publish, then publish it. */
export async function approveNow(
  deps: OpsDeps,
  item: OpsSignalItem,
  approvals: ApprovalEntry[],
  who: Actor,
  action: 'approve' | 'timeout_emit',
): Promise<ApproveResult> {
  const at = new Date(who.nowMs).toISOString();
  const context = await deps.store.proposalContext(item);
  const event = buildApprovedSignalEvent(item, {
    approved_by: who.actor,
    approved_at: at,
    reason: who.reason,
    approvals,
    snapshot_event_version: context?.event_version ?? 1,
    evaluation_provenance: context?.provenance ?? {},
    engine_version: deps.engineVersion,
  });
  const set = {
    status: 'approved' as const,
    approvals,
    decided_by: who.actor,
    decided_at: at,
    decision_reason: who.reason,
    event_id: event.id,
    approved_event: event,
    publish_lease_until: who.nowMs + deps.leaseMs,
  };
  await transitionOrExplain(deps, item, {
    signal_id: item.signal_id,
    from: 'proposed',
    approvals_count: (item.approvals ?? []).length,
    set,
    ...(item.action === 'hold'
      ? {}
      : {
          approved_cut: {
            world_id: item.world_id,
            strategy_id: item.strategy_id,
            rule_ids: item.rule_ids,
            emitted_at: item.emitted_at,
            expires_at: item.expires_at,
          },
        }),
    audit: opsAudit(
      deps,
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
  deps.metrics.count('OpsActions', 1, { action });
  return publishApproved(deps, { ...item, ...set }, event, who.nowMs);
}

/** Completes an `approved` row: takes the publish lease (unless someone holds it), publishes, marks. */
export async function finishApproved(
  deps: OpsDeps,
  item: OpsSignalItem,
  nowMs: number,
): Promise<ApproveResult> {
  const event = item.approved_event as ExitSignalEvent | undefined;
  if (!event || !item.event_id) {
    throw new OpsConflictError(
      `signal ${item.signal_id} is approved but holds no event to publish`,
      item.status,
    );
  }
  const taken = await deps.store.transitionSignal({
    signal_id: item.signal_id,
    from: 'approved',
    lease_free_at: nowMs,
    set: { publish_lease_until: nowMs + deps.leaseMs },
  });
  if (!taken) return { outcome: 'approved_publish_pending', signal: item, event_id: item.event_id };
  return publishApproved(deps, item, event, nowMs);
}

async function publishApproved(
  deps: OpsDeps,
  item: OpsSignalItem,
  event: ExitSignalEvent,
  nowMs: number,
): Promise<ApproveResult> {
  try {
    await deps.publisher.publish([event]);
  } catch (error) {
    // Give the lease back so the next sweep publishes it at once; the decision itself is stored.
    await deps.store
      .transitionSignal({ signal_id: item.signal_id, from: 'approved', set: { publish_lease_until: 0 } })
      .catch(() => false);
    deps.metrics.count('ApprovalPublishFailures', 1);
    deps.logger.error('approved signal not published yet; the approval-timeout sweep will retry', {
      signal_id: item.signal_id,
      event_id: event.id,
      error: (error as Error).message,
    });
    return { outcome: 'approved_publish_pending', signal: item, event_id: event.id };
  }
  const publishedAt = new Date(nowMs).toISOString();
  await deps.store.transitionSignal({
    signal_id: item.signal_id,
    from: 'approved',
    set: { status: 'published', published_at: publishedAt, publish_lease_until: 0 },
  });
  deps.metrics.count('SignalsEmitted', 1, { world: item.world_id, reason: item.reason });
  return {
    outcome: 'published',
    signal: { ...item, status: 'published', published_at: publishedAt },
    event_id: event.id,
  };
}

/** Who closes a proposal no person decided: the approval-timeout sweep... */
export const TIMEOUT_ACTOR = 'system:approval-timeout';
/** ...or the check that its risk episode is over (engine/proposal-ground.ts). */
export const EPISODE_OVER_ACTOR = 'system:episode-over';

/**
 * `proposed → expired`, audited under `kind` with its reason: the timeout's `drop` default, a
 * timeout on stale ground, or a proposal whose risk episode is over (engine/proposal-ground.ts).
 */
export async function expireProposal(
  deps: OpsDeps,
  item: OpsSignalItem,
  how: { kind: 'timeout_stale' | 'timeout_drop' | 'episode_over'; why: string; nowMs: number },
): Promise<void> {
  const at = new Date(how.nowMs).toISOString();
  const actor = how.kind === 'episode_over' ? EPISODE_OVER_ACTOR : TIMEOUT_ACTOR;
  await transitionOrExplain(deps, item, {
    signal_id: item.signal_id,
    from: 'proposed',
    set: { status: 'expired', decided_by: actor, decided_at: at, decision_reason: how.why },
    audit: opsAudit(
      deps,
      item.world_id,
      how.kind,
      item.signal_id,
      { actor, principal: actor },
      how.why,
      how.nowMs,
      {
        before: { status: 'proposed', approvals: item.approvals ?? [] },
        after: { status: 'expired' },
      },
    ),
  });
}

function assertProposed(item: OpsSignalItem, action: 'approve' | 'reject'): void {
  if (item.status === 'proposed') return;
  throw new OpsConflictError(describeNotProposed(item, action), item.status);
}

/** Applies a transition; when the row moved meanwhile, says what it is now. */
export async function transitionOrExplain(
  deps: OpsDeps,
  item: OpsSignalItem,
  t: Parameters<OpsStore['transitionSignal']>[0],
): Promise<void> {
  if (await deps.store.transitionSignal(t)) return;
  const now = await deps.store.getSignal(item.signal_id);
  if (now?.status === 'proposed') {
    throw new OpsConflictError(
      `signal ${item.signal_id} changed while this request ran (another approval was recorded); try again`,
      'proposed',
    );
  }
  throw new OpsConflictError(describeNotProposed(now ?? item, 'decide'), now?.status ?? item.status);
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
    expired: `expired without a decision${by}${item.decision_reason ? ` (${item.decision_reason})` : ''}`,
    shadow: 'is a shadow-mode signal; it is never published and needs no decision',
    muted: 'was muted when it fired; it is stored for the record and needs no decision',
    pending_publish: 'is an enforce-mode signal being published; it needs no decision',
  };
  return `cannot ${action} signal ${item.signal_id}: it ${what[item.status] ?? `is ${item.status}`}; only proposed signals can be approved or rejected`;
}
