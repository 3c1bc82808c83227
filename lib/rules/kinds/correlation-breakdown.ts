import {
  absorptionShift,
  correlationZScore,
  type Turbulence,
  turbulence,
  type WindowShift,
} from '#lib/risk/market-structure.js';
import { fastAbsorptionShift, fastCorrelationZScore } from '#lib/rules/market-structure-fast.js';
import { fastTurbulence } from '#lib/rules/turbulence-fast.js';
import type { RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { fanOut, round, unavailable } from './shared.js';

/**
 * The market-structure statistics of the per-strategy returns (each throws the library's RangeError for
 * a window the returns cannot fill). Only this kind reads them, so they live with it, loaded with the
 * kinds the default rule set lacks (kinds/on-demand.ts) rather than with the evaluation's shared measures.
 */
interface StructureStatistics {
  turbulence(returns: readonly Float64Array[], window: number): Turbulence;
  absorptionShift(returns: readonly Float64Array[], shortWindow: number, longWindow: number): WindowShift;
  correlationZScore(returns: readonly Float64Array[], shortWindow: number, longWindow: number): WindowShift;
}

/** The engine's kernels (market-structure-fast.ts, turbulence-fast.ts): they agree with PLAIN to rounding. */
const FAST: StructureStatistics = {
  turbulence: fastTurbulence,
  absorptionShift: fastAbsorptionShift,
  correlationZScore: fastCorrelationZScore,
};

/** The lib/risk functions as first written, for a rule measured on its own (tests, tools). */
const PLAIN: StructureStatistics = { turbulence, absorptionShift, correlationZScore };

type CorrelationRule = RuleOf<'correlation_breakdown'>;
type Outcome = { value: number; evidence: Record<string, unknown> } | { value: null; reason: string };

function compute(rule: CorrelationRule, snapshot: PreparedSnapshot, measures: StructureStatistics): Outcome {
  const returns = snapshot.returns;
  if (!returns) return { value: null, reason: 'needs realized returns per strategy; the snapshot has none' };
  if (returns.length < 2)
    return { value: null, reason: `needs at least 2 strategies' returns, has ${returns.length}` };
  const { short_window: short, long_window: long } = rule;
  try {
    if (rule.measure === 'turbulence_percentile') {
      // The latest cross-section against the `long_window` periods before it.
      const t = measures.turbulence(returns, long);
      if (!Number.isFinite(t.percentile))
        return { value: null, reason: 'turbulence is undefined for these returns' };
      return { value: t.percentile, evidence: { turbulence: round(t.value), window: long } };
    }
    const shift =
      rule.measure === 'avg_correlation_z'
        ? measures.correlationZScore(returns, short, long)
        : measures.absorptionShift(returns, short, long);
    const evidence = {
      short_value: round(shift.short),
      long_mean: round(shift.longMean),
      blocks: shift.blocks.length,
    };
    if (!Number.isFinite(shift.zScore)) {
      return {
        value: null,
        reason: `${rule.measure} is undefined: the statistic does not vary across the long window's blocks`,
      };
    }
    return { value: shift.zScore, evidence };
  } catch (error) {
    // The library refuses windows the data cannot fill (e.g. fewer than 3 short blocks in the long window).
    if (error instanceof RangeError) return { value: null, reason: `${rule.measure}: ${error.message}` };
    throw error;
  }
}

/**
 * `correlation_breakdown`, from the snapshot's per-strategy returns: `avg_correlation_z` = z-score
 * of the latest `short_window` average pairwise correlation against the non-overlapping short blocks
 * of `long_window`; `absorption_shift` = the same standardized shift of the absorption ratio (top
 * ⌈N/5⌉ eigenvectors); `turbulence_percentile` = percentile (0..1) of the latest cross-section's
 * Mahalanobis turbulence among the `long_window` periods before it. A market-wide reading: strategy
 * scope repeats it per strategy. Not homogeneous: a cut does not change correlations.
 */
export const correlationBreakdown: RuleKindEvaluator<'correlation_breakdown'> = {
  kind: 'correlation_breakdown',
  homogeneous: false,
  measure: (rule, input) => {
    const { snapshot } = input;
    // In an engine evaluation (`input.shared` set) the fast kernels, as the shared measures gave them before.
    const outcome = compute(rule, snapshot, input.shared ? FAST : PLAIN);
    const head = { measure: rule.measure, short_window: rule.short_window, long_window: rule.long_window };
    return fanOut(rule.scope, snapshot, (scopeKey, strategies): RuleMeasurement => {
      if (outcome.value === null) return unavailable(scopeKey, strategies, outcome.reason, head);
      return {
        scopeKey,
        value: outcome.value,
        strategies,
        evidence: Object.assign({}, head, outcome.evidence),
      };
    });
  },
};
