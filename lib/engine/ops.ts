import { type ApproveResult, approve, reject } from './ops-approval.js';
import { opsAudit } from './ops-audit.js';
import { type Actor, findSignal, type OpsDeps, required } from './ops-context.js';
import {
  MuteOps,
  type MuteRequest,
  type MuteResult,
  type MuteView,
  type UnmuteRequest,
} from './ops-mutes.js';
import { expireDue, type SweepResult } from './ops-timeout-sweep.js';
import type { AuditRecord, MuteRecord, OpsSignalItem, SignalQuery } from './ports.js';

export { formatDuration, parseDuration, parseInstant, parseTime } from './durations.js';
export { type ApproveResult, decideApproval } from './ops-approval.js';
export type { Actor, OpsDeps } from './ops-context.js';
export * from './ops-errors.js';
export {
  didYouMean,
  hasSelectors,
  type MuteRequest,
  type MuteResult,
  type MuteView,
  muteId,
  muteState,
  type UnmuteRequest,
} from './ops-mutes.js';
export {
  assertSweepComplete,
  SweepIncompleteError,
  type SweepResult,
  TIMEOUT_ACTOR,
} from './ops-timeout-sweep.js';
export { catalogFrom, type WorldCatalog } from './world-catalog.js';

/**
 * The ops use cases: approve or reject proposed signals, settle the ones nobody decided, mute and
 * unmute rules. Pure over ports; time is passed in. Publishing stays here (with the engine): an
 * approver's request decides, the engine's publisher puts the event on the bus. A façade: the
 * approval path is in ops-approval, the timeout sweep in ops-timeout-sweep, mutes in ops-mutes,
 * the audit record in ops-audit.
 */
export class OpsService {
  private readonly mutes: MuteOps;

  constructor(private readonly deps: OpsDeps) {
    this.mutes = new MuteOps({
      store: deps.store,
      catalog: deps.catalog,
      metrics: deps.metrics,
      audit: (world, action, targetId, who, reason, nowMs, change) =>
        opsAudit(deps, world, action, targetId, who, reason, nowMs, change),
    });
  }

  /** Reads one signal; unknown ids are a 404 with the id in the message. */
  getSignal(signalId: string): Promise<OpsSignalItem> {
    return findSignal(this.deps, signalId);
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
  approve(signalId: string, who: Actor): Promise<ApproveResult> {
    return approve(this.deps, signalId, who);
  }

  /** Rejects a proposed signal: it is closed, nothing is published. One rejection suffices, even with four eyes. */
  reject(signalId: string, who: Actor): Promise<OpsSignalItem> {
    return reject(this.deps, signalId, who);
  }

  /**
   * The timeout sweep: every proposed signal past its deadline gets its rule's default (`emit` →
   * approved by system:approval-timeout and published; `drop` → expired), and every approved
   * signal whose publish did not complete is published. Each signal is settled on its own; one
   * failure does not stop the rest and is listed in `failed` (see `assertSweepComplete`).
   */
  expireDue(nowMs: number): Promise<SweepResult> {
    return expireDue(this.deps, nowMs);
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
}
