import type { RuleSpec } from './rule-schema.js';

/**
 * Which sized reductions each rule can honour. A `reduce` promises "the smallest cut that brings the
 * measure back to the target"; a measure that no position cut moves (VIX, a correlation spike,
 * data age, a realized drawdown) cannot keep that promise, so such rules may only `exit` or
 * `reduce_fixed`. One table, read by validation, by the engine's sizing and by `rules explain`.
 */
export interface SizingSupport {
  /** True when the measure scales by (1 − r) when every position is cut by r (uniform sizing is exact). */
  homogeneous: boolean;
  /** Why a sized `reduce` (any sizing) is refused, or null when it is honoured. */
  reduce: string | null;
  /** Why `sizing: contribution` is refused, or null when it is honoured. */
  contribution: string | null;
  /** What "contribution" means for this rule (for `rules explain` and the signal's metrics). */
  contributionBasis: string | null;
}

const IMMOVABLE = (what: string): SizingSupport => ({
  homogeneous: false,
  reduce: `${what}: no position cut moves this measure, so a reduce sized to the target cannot restore it; use action exit or reduce_fixed`,
  contribution: `${what}: no position cut moves this measure`,
  contributionBasis: null,
});

/** The sizing a rule's measure allows (see the module comment). */
export function sizingSupport(rule: RuleSpec): SizingSupport {
  switch (rule.kind) {
    case 'var_limit':
    case 'es_limit':
      return {
        homogeneous: true,
        reduce: null,
        contribution: null,
        contributionBasis:
          rule.method === 'normal'
            ? 'component (Euler) contribution wᵢ·∂R/∂wᵢ from the covariance'
            : rule.method === 'historical'
              ? "each strategy's average weighted loss over the k tail periods of the portfolio"
              : `numerical Euler contribution wᵢ·∂R/∂wᵢ of the ${rule.method === 'student_t' ? 'Student-t' : 'Cornish–Fisher'} measure on the realized returns`,
      };
    case 'concentration':
      return {
        homogeneous: false,
        reduce: null,
        contribution: null,
        contributionBasis:
          rule.measure === 'max_weight'
            ? '|wᵢ| (only strategies above the target are trimmed)'
            : rule.measure === 'herfindahl'
              ? 'wᵢ² (largest weights first)'
              : '|wᵢ| (largest gross exposures first)',
      };
    case 'stress_drawdown':
      return {
        homogeneous: true,
        reduce: null,
        contribution:
          'stress_drawdown: the hub reports scenario losses as totals with no per-strategy contribution; use sizing: uniform',
        contributionBasis: null,
      };
    case 'liquidity':
      if (rule.measure === 'adv_utilization')
        return {
          homogeneous: true,
          reduce: null,
          contribution:
            'liquidity adv_utilization: the utilization figure has no per-strategy contribution to the world measure; use sizing: uniform',
          contributionBasis: null,
        };
      return IMMOVABLE(`liquidity ${rule.measure}`);
    case 'drawdown':
      return IMMOVABLE('drawdown (a realized loss)');
    case 'volatility_regime':
      return IMMOVABLE(`volatility_regime ${rule.measure}`);
    case 'correlation_breakdown':
      return IMMOVABLE(`correlation_breakdown ${rule.measure}`);
    case 'staleness':
      return IMMOVABLE(`staleness of ${rule.source} data`);
    case 'risk_contribution':
      return {
        homogeneous: false,
        reduce: null,
        contribution: null,
        contributionBasis:
          'the breaching strategy alone, cut exactly to the target share (the rest of the book unchanged)',
      };
  }
}

/** The validation message for a rule's action, or null when the action is honoured. */
export function actionProblem(rule: RuleSpec): string | null {
  if (rule.action.type !== 'reduce') return null;
  const support = sizingSupport(rule);
  if (support.reduce) return support.reduce;
  if (rule.action.sizing === 'contribution') return support.contribution;
  return null;
}
