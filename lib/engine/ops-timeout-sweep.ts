import { DEFAULT_TTL_SEC } from '#lib/contracts/risk-snapshot.js';
import type { EpisodeState } from './episodes.js';
import { RetryableError } from './errors.js';
import { approveNow, expireProposal, finishApproved, TIMEOUT_ACTOR } from './ops-approval.js';
import type { OpsDeps } from './ops-context.js';
import { OpsConflictError } from './ops-errors.js';
import type { OpsSignalItem, SignalStatus } from './ports.js';
import { proposalOverReason } from './proposal-ground.js';

/**
 * The approval-timeout sweep: proposed signals past their deadline get their rule's default (emit
 * or drop), unless the ground they stood on is stale; approved signals whose publish did not
 * complete are published.
 */

export { TIMEOUT_ACTOR };

/** Statuses of a recommendation the gateway has received or is about to. */
const GATEWAY_BOUND = new Set<SignalStatus>(['published', 'pending_publish', 'approved']);

/** Some proposed signals could not be settled this sweep; the next run (or the retry) tries again. */
export class SweepIncompleteError extends RetryableError {
  override readonly name = 'SweepIncompleteError';
}

/** Throws when a sweep left signals unsettled, so the schedule's retry (and the error alarm) sees it. */
export function assertSweepComplete(result: SweepResult): void {
  if (result.failed.length === 0) return;
  throw new SweepIncompleteError(
    `approval timeout: ${result.failed.length} signal(s) not settled: ${result.failed.map((f) => `${f.signal_id} (${f.error})`).join('; ')}`,
  );
}

export interface SweepResult {
  emitted: string[];
  dropped: string[];
  /** Timed out on stale ground (snapshot long expired, or a newer recommendation exists): expired, never emitted. */
  stale: string[];
  /** Closed before their deadline: the risk episode behind them is over (engine/proposal-ground.ts). */
  episode_over: string[];
  republished: string[];
  failed: { signal_id: string; error: string }[];
  /** Proposed signals still waiting for a person. */
  pending: number;
  /** Age of the oldest signal still waiting for a person (0 when none). */
  oldest_pending_age_sec: number;
}

/**
 * The timeout sweep: every proposed signal past its deadline gets its rule's default (`emit` →
 * approved by system:approval-timeout and published; `drop` → expired), and every approved
 * signal whose publish did not complete is published. Each signal is settled on its own; one
 * failure does not stop the rest and is listed in `failed` (see `assertSweepComplete`).
 */
export async function expireDue(deps: OpsDeps, nowMs: number): Promise<SweepResult> {
  const result: SweepResult = {
    emitted: [],
    dropped: [],
    stale: [],
    episode_over: [],
    republished: [],
    failed: [],
    pending: 0,
    oldest_pending_age_sec: 0,
  };
  const { store, logger } = deps;
  let oldest = Number.POSITIVE_INFINITY;
  const episodes = new Map<string, Promise<Map<string, EpisodeState>>>();
  const episodesOf = (worldId: string) => {
    const known = episodes.get(worldId);
    if (known) return known;
    const loading = store.loadEpisodes(worldId);
    episodes.set(worldId, loading);
    return loading;
  };
  for (const item of await store.listSignals({ status: 'proposed' })) {
    const deadlineMs = Date.parse(item.approval?.deadline ?? item.emitted_at);
    try {
      const over = proposalOverReason(item, await episodesOf(item.world_id));
      if (over !== undefined) {
        await expireProposal(deps, item, {
          kind: 'episode_over',
          why: `${over}; expired before its deadline`,
          nowMs,
        });
        deps.metrics.count('ApprovalTimeouts', 1, { default: 'episode_over' });
        result.episode_over.push(item.signal_id);
        continue;
      }
    } catch (error) {
      if (error instanceof OpsConflictError) continue;
      result.failed.push({ signal_id: item.signal_id, error: (error as Error).message });
      continue;
    }
    if (deadlineMs > nowMs) {
      result.pending += 1;
      oldest = Math.min(oldest, Date.parse(item.emitted_at));
      continue;
    }
    try {
      await settleTimedOut(deps, item, nowMs, result);
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
      const out = await finishApproved(deps, item, nowMs);
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

/**
 * Why a timed-out proposal must not reach the gateway, if it must not: its snapshot expired longer
 * ago than the approval window (replayed history, or a sweep that did not run for a long time), or
 * the gateway has (or is getting) a newer recommendation for the same world and strategy.
 */
async function staleReason(deps: OpsDeps, item: OpsSignalItem, nowMs: number): Promise<string | undefined> {
  const snapshotExpiresMs = Date.parse(
    item.approval?.snapshot_expires_at ??
      new Date(Date.parse(item.as_of) + DEFAULT_TTL_SEC * 1000).toISOString(),
  );
  const windowMs = (item.approval?.timeout_sec ?? 0) * 1000;
  if (Number.isFinite(snapshotExpiresMs) && nowMs > snapshotExpiresMs + windowMs) {
    return `its snapshot (as of ${item.as_of}) expired at ${new Date(snapshotExpiresMs).toISOString()}, longer ago than the approval window; a recommendation on expired data is never emitted`;
  }
  const newer = (await deps.store.listSignals({ world_id: item.world_id, since: item.emitted_at })).find(
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

async function settleTimedOut(
  deps: OpsDeps,
  item: OpsSignalItem,
  nowMs: number,
  result: SweepResult,
): Promise<void> {
  const stale = await staleReason(deps, item, nowMs);
  if (stale !== undefined) {
    const why = `approval deadline ${item.approval?.deadline} passed; expired without its default because ${stale}`;
    await expireProposal(deps, item, { kind: 'timeout_stale', why, nowMs });
    deps.metrics.count('ApprovalTimeouts', 1, { default: 'stale' });
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
    await approveNow(deps, item, approvals, { actor: TIMEOUT_ACTOR, reason: why, nowMs }, 'timeout_emit');
    result.emitted.push(item.signal_id);
    return;
  }
  await expireProposal(deps, item, { kind: 'timeout_drop', why, nowMs });
  deps.metrics.count('ApprovalTimeouts', 1, { default: 'drop' });
  result.dropped.push(item.signal_id);
}
