import { effectiveMode } from '#lib/rules/rule-modes.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import type { EpisodeState } from './episodes.js';

/** Mutes and approved cuts: what keeps a signal from the gateway, and what earns a hold when an episode clears. */

/** A time-boxed silence on a rule (or all rules) for a world or one strategy. */
export interface Mute {
  mute_id: string;
  world_id: string;
  strategy_id?: string;
  rule_id?: string;
  until: string;
  reason: string;
  actor: string;
}

/** The mutes still in force from stored mute records (an unmuted one carries `ended_at`). */
export function activeMutes(records: readonly (Mute & { ended_at?: string })[]): Mute[] {
  return records
    .filter((m) => m.ended_at === undefined)
    .map((m) => ({
      mute_id: m.mute_id,
      world_id: m.world_id,
      ...(m.strategy_id ? { strategy_id: m.strategy_id } : {}),
      ...(m.rule_id ? { rule_id: m.rule_id } : {}),
      until: m.until,
      reason: m.reason,
      actor: m.actor,
    }));
}

/**
 * A cut proposed for approval that ops approved (or the timeout sweep emitted by default): it has
 * reached, or is about to reach, the gateway. Only these earn a hold when their episode clears.
 */
export interface ApprovedCut {
  strategy_id: string;
  rule_ids: string[];
  /** When the proposal was made (the evaluation's `now`). */
  emitted_at: string;
}

/**
 * When the oldest open episode of an approval-mode rule began, or undefined when none is open: the
 * engine reads approved cuts (one query) only then, since only such an episode can clear into a hold.
 */
export function openApprovalSince(
  ruleSet: RuleSet,
  episodes: ReadonlyMap<string, EpisodeState>,
): string | undefined {
  const approvalRules = new Set(
    ruleSet.rules.filter((r) => effectiveMode(ruleSet, r) === 'approval').map((r) => r.id),
  );
  let since: string | undefined;
  for (const e of episodes.values()) {
    if (e.status !== 'active' || !approvalRules.has(e.rule_id)) continue;
    const opened = e.opened_at ?? '';
    if (since === undefined || opened < since) since = opened;
  }
  return since;
}

/** Whether a stored signal row is an approved approval-mode cut (approved, or since published). */
export function isApprovedCut(row: { mode: string; status: string; action: string }): boolean {
  return (
    row.mode === 'approval' &&
    (row.status === 'approved' || row.status === 'published') &&
    row.action !== 'hold'
  );
}

/** The approved cut a stored signal row (or marker) stands for. */
export function approvedCutOf(row: {
  strategy_id?: unknown;
  rule_ids?: unknown;
  emitted_at?: unknown;
}): ApprovedCut {
  return {
    strategy_id: String(row.strategy_id),
    rule_ids: [...((row.rule_ids as Iterable<string> | undefined) ?? [])],
    emitted_at: String(row.emitted_at),
  };
}

/** Whether an approved cut of this rule reached this strategy during the episode opened at `openedAt`. */
export function wasApproved(
  cuts: readonly ApprovedCut[],
  ruleId: string,
  strategyId: string,
  openedAt: string | undefined,
): boolean {
  return cuts.some(
    (c) =>
      c.strategy_id === strategyId &&
      c.rule_ids.includes(ruleId) &&
      (openedAt === undefined || c.emitted_at >= openedAt),
  );
}

/** The active mute covering this rule and strategy, if any (the latest-ending one). */
export function findMute(
  mutes: readonly Mute[],
  worldId: string,
  strategyId: string,
  ruleId: string,
  nowMs: number,
): Mute | undefined {
  let found: Mute | undefined;
  for (const m of mutes) {
    if (m.world_id !== worldId) continue;
    if (m.strategy_id !== undefined && m.strategy_id !== strategyId) continue;
    if (m.rule_id !== undefined && m.rule_id !== ruleId) continue;
    if (Date.parse(m.until) <= nowMs) continue;
    if (!found || m.until > found.until) found = m;
  }
  return found;
}
