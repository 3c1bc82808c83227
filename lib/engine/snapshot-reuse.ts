import type { RuleSet, RuleSpec } from '#lib/rules/rule-schema.js';

/**
 * What a later evaluation of a world's latest snapshot can decide that its hub evaluation did not,
 * and so what of the snapshot must be kept for it.
 *
 * After the hub snapshot's own evaluation the snapshot is evaluated again only by a market
 * re-evaluation (newer market data, later time) and by the freshness sweep (staleness rules, later
 * time). Both see the same snapshot, so for a rule whose measure reads the snapshot alone, whose
 * persistence counts distinct data (not time) and which repeats only on escalation (no
 * `repeat_after_sec`), a later evaluation measures the same value and steps its episode to the same
 * verdict (a re-evaluation of the same data never counts twice; lock-out and cooldown run on the
 * snapshots' as_of): it cannot emit anything. Such a rule is not re-run by a later evaluation: its
 * episode is carried as the hub evaluation left it (evaluate.ts, `rerun`). The other rules are re-run,
 * and the snapshot keeps what they read:
 *
 * - no rule re-run: only the weights (what the mute catalog reads), and market re-evaluations stop
 *   before they claim anything;
 * - only rules of the kinds in POSITION_KINDS re-run: the `positions` projection (weights,
 *   constraints, provenance; the head is always kept), not the covariance, returns or stress;
 * - any other rule re-run (a snapshot-reading kind with time persistence or a timed repeat, or a kind
 *   added later): the whole body.
 *
 * Conservative on purpose: a kind listed in neither set counts as one a later evaluation can change
 * and whose inputs are the whole body.
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

/**
 * Kinds whose measure reads of the snapshot only its head (as_of, expiry), its weights and
 * constraints (`constraints.adv_util_p95`), besides market data and the clock; every rule also reads
 * the provenance (`when`) and the constraints (relative levels).
 */
const POSITION_KINDS: ReadonlySet<string> = new Set(['volatility_regime', 'liquidity', 'staleness']);

/** The body fields the `positions` projection keeps. */
export const POSITION_FIELDS = ['weights', 'constraints', 'provenance'] as const;

/**
 * What a store keeps of a snapshot's body: `weights` and `positions` are projections (above),
 * `whole` the body as sent. Ordered: each keeps everything the one before it does.
 */
export type Projection = 'weights' | 'positions' | 'whole';
const RANK: Record<Projection, number> = { weights: 0, positions: 1, whole: 2 };

/** Whether a later evaluation can change what this rule decided on the snapshot (see above). */
export function laterEvaluationCanChange(rule: RuleSpec): boolean {
  return (
    !SNAPSHOT_ONLY_KINDS.has(rule.kind) ||
    typeof rule.persistence !== 'number' ||
    rule.reemit.repeat_after_sec !== undefined
  );
}

export function laterEvaluationCanDiffer(ruleSet: Pick<RuleSet, 'rules'>): boolean {
  return ruleSet.rules.some(laterEvaluationCanChange);
}

const rerunCache = new WeakMap<object, ReadonlySet<string>>();

/** The ids of the rules a later evaluation re-runs; every other rule's episode is carried. */
export function rerunRuleIds(ruleSet: Pick<RuleSet, 'rules'>): ReadonlySet<string> {
  let ids = rerunCache.get(ruleSet);
  if (!ids) {
    ids = new Set(ruleSet.rules.filter(laterEvaluationCanChange).map((r) => r.id));
    rerunCache.set(ruleSet, ids);
  }
  return ids;
}

/** What of a snapshot's body the later evaluations of a rule set read. */
export function projectionFor(ruleSet: Pick<RuleSet, 'rules'>): Projection {
  const rerun = ruleSet.rules.filter(laterEvaluationCanChange);
  if (rerun.length === 0) return 'weights';
  return rerun.every((r) => POSITION_KINDS.has(r.kind)) ? 'positions' : 'whole';
}

/** The projection a latest-snapshot record's `body_kept` names (absent: the whole body, as before). */
export function keptProjection(bodyKept: 'weights' | 'positions' | undefined): Projection {
  return bodyKept ?? 'whole';
}

/** Whether a body kept as `kept` holds everything `needed` reads. */
export function covers(kept: Projection, needed: Projection): boolean {
  return RANK[kept] >= RANK[needed];
}
