import type { RuleSet } from '#lib/rules/rule-schema.js';

/**
 * Whether a later evaluation of a world's latest snapshot can decide anything its hub evaluation did not.
 *
 * After the hub snapshot's own evaluation the snapshot is evaluated again only by a market
 * re-evaluation (newer market data, later time) and by the freshness sweep (staleness rules, later
 * time). Both see the same snapshot, so for a rule whose measure reads the snapshot alone, whose
 * persistence counts distinct data (not time) and which repeats only on escalation (no
 * `repeat_after_sec`), a later evaluation measures the same value and steps its episode to the same
 * verdict (a re-evaluation of the same data never counts twice; lock-out and cooldown run on the
 * snapshots' as_of): it cannot emit anything. A rule set made only of such rules needs no later
 * evaluation, so the world's snapshot body need not be kept for one and its market re-evaluations
 * can stop before they claim anything.
 *
 * Conservative on purpose: a kind not listed here (the market kinds, staleness, and any kind added
 * later) counts as one a later evaluation can change.
 */
const SNAPSHOT_ONLY_KINDS: ReadonlySet<string> = new Set([
  'var_limit',
  'es_limit',
  'stress_drawdown',
  'drawdown',
  'concentration',
  'correlation_breakdown',
  'risk_contribution',
]);

export function laterEvaluationCanDiffer(ruleSet: Pick<RuleSet, 'rules'>): boolean {
  return ruleSet.rules.some(
    (rule) =>
      !SNAPSHOT_ONLY_KINDS.has(rule.kind) ||
      typeof rule.persistence !== 'number' ||
      rule.reemit.repeat_after_sec !== undefined,
  );
}
