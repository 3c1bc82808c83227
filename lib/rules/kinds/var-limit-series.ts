import { cornishFisherFromMoments } from '#lib/risk/cornish-fisher.js';
import { type HistoricalTail, historicalTail } from '#lib/risk/historical.js';
import {
  numericEulerContributions,
  seriesContributionCut,
  tailContributions,
} from '#lib/risk/series-sizing.js';
import { moments, type SeriesMoments } from '#lib/risk/stats.js';
import { dofFromKurtosis, studentTVarEs } from '#lib/risk/student-t.js';
import { type Measures, sharedMeasuresOf } from '#lib/rules/shared-measures.js';
import type { PreparedSnapshot, RuleMeasurement } from '../types.js';
import { round, unavailable, WORLD } from './shared.js';
import type { SeriesMethods, VarRule, Which } from './var-limit.js';

/**
 * `var_limit` / `es_limit` by the series methods (student_t, cornish_fisher, historical) and their
 * contribution sizing. The default rule set measures VaR by the normal method only, so this is loaded
 * with the kinds it lacks (kinds/on-demand.ts), the first time a rule set asks for a series method.
 */

/** Fewest returns for the moment estimates behind Student-t and Cornish–Fisher. */
export const MIN_MOMENT_OBSERVATIONS = 4;

/** What one method produced for one return series or σ: the measure, or why it cannot be had. */
type Outcome =
  | { value: number; evidence: Record<string, unknown> }
  | { value: null; reason: string; evidence: Record<string, unknown> };

/** A return series as the series methods read it: its length, its historical tail and its moments. */
interface SeriesSource {
  n: number;
  tail(confidence: number, horizon: number): HistoricalTail;
  moments(): SeriesMoments;
}

/**
 * A series through the evaluation's measures, for series that do not change during it; straight
 * from the lib/risk functions (`measures` null) for scratch series.
 */
class ArraySource implements SeriesSource {
  readonly n: number;
  constructor(
    private readonly series: Float64Array,
    private readonly measures: Measures | null,
  ) {
    this.n = series.length;
  }
  tail(confidence: number, horizon: number): HistoricalTail {
    return this.measures
      ? this.measures.historicalTail(this.series, confidence, horizon)
      : historicalTail(this.series, confidence, horizon);
  }
  moments(): SeriesMoments {
    return this.measures ? this.measures.moments(this.series) : moments(this.series);
  }
}

/** Strategy i's position wᵢ·rᵢ: the moment methods get its moments without the series being built. */
class PositionSource implements SeriesSource {
  constructor(
    readonly n: number,
    private readonly i: number,
    private readonly measures: Measures,
  ) {}
  tail(confidence: number, horizon: number): HistoricalTail {
    return this.measures.historicalTail(this.measures.position(this.i)!, confidence, horizon);
  }
  moments(): SeriesMoments {
    return this.measures.positionMoments(this.i)!;
  }
}

/** VaR or ES of a return series by a series method (student_t, cornish_fisher, historical), as a positive loss at the rule's confidence and horizon (√h scaling, zero-mean convention). */
function seriesMeasure(rule: VarRule, which: Which, series: SeriesSource): Outcome {
  const { confidence, horizon } = rule;
  const n = series.n;
  const base = { observations: n };
  if (rule.method === 'historical') {
    // Below n·(1 − α) = 1 the "tail" is not even one observation deep: the quantile is the sample minimum.
    const needed = Math.ceil(1 / (1 - confidence) - 1e-9);
    if (n < needed) {
      return {
        value: null,
        reason: `historical ${pct(confidence)} needs at least ${needed} returns, has ${n}`,
        evidence: base,
      };
    }
    const tail = series.tail(confidence, horizon);
    return {
      value: tail[which],
      evidence: { observations: n, tail_count: tail.k, var: round(tail.var), es: round(tail.es) },
    };
  }
  if (n < MIN_MOMENT_OBSERVATIONS) {
    return {
      value: null,
      reason: `${rule.method} needs at least ${MIN_MOMENT_OBSERVATIONS} returns, has ${n}`,
      evidence: base,
    };
  }
  const m = series.moments();
  if (rule.method === 'cornish_fisher') {
    // Zero-mean convention, as for the normal method: the sample mean of a short window is mostly noise.
    const cf = cornishFisherFromMoments(Object.assign({}, m, { mean: 0 }), confidence, horizon);
    const shape = {
      observations: n,
      sigma: round(m.std),
      skewness: Number.isFinite(m.skewness) ? round(m.skewness) : null,
      excess_kurtosis: Number.isFinite(m.excessKurtosis) ? round(m.excessKurtosis) : null,
    };
    if (!cf.ok) return { value: null, reason: `cornish_fisher: ${cf.reason}`, evidence: shape };
    return {
      value: cf[which],
      evidence: Object.assign({}, shape, { z_cf: round(cf.zcf), var: round(cf.var), es: round(cf.es) }),
    };
  }
  if (!Number.isFinite(m.std))
    return {
      value: null,
      reason: 'student_t: the return series has no finite standard deviation',
      evidence: base,
    };
  const estimated = rule.dof === undefined ? dofFromKurtosis(m.excessKurtosis) : null;
  const dof = rule.dof ?? estimated?.dof ?? Number.NaN;
  // Both from one quantile (an iterative inverse of the incomplete beta), as studentTVar and studentTEs give them.
  const { var: v, es: e } = studentTVarEs(m.std, confidence, dof, horizon);
  return {
    value: which === 'var' ? v : e,
    evidence: {
      observations: n,
      sigma: round(m.std),
      excess_kurtosis: Number.isFinite(m.excessKurtosis) ? round(m.excessKurtosis) : null,
      dof: round(dof),
      dof_source: estimated === null ? 'rule' : estimated.bounded ? 'kurtosis_bounded' : 'kurtosis',
      var: round(v),
      es: round(e),
    },
  };
}

/**
 * Contribution sizing for a series method (student_t, cornish_fisher, historical) on the world:
 * greedy cuts ordered by each strategy's contribution (tail average for historical, numerical Euler
 * for the moment methods), each trial re-measured by the rule's own method.
 */
function seriesContribution(
  rule: VarRule,
  which: Which,
  snapshot: PreparedSnapshot,
  measurement: RuleMeasurement,
): void {
  const target = rule.target ?? rule.limit;
  if (measurement.value === null || !(measurement.value > target)) return;
  if (rule.action.type !== 'reduce' || rule.action.sizing !== 'contribution') return;
  const returns = snapshot.returns;
  if (!returns) {
    measurement.contributionUnavailable = `${rule.method} contribution sizing needs realized_returns per strategy; the snapshot sent a portfolio series only`;
    return;
  }
  // Not shared: the sizing search re-measures one scratch array whose contents change between calls.
  const measure = (series: Float64Array) =>
    seriesMeasure(rule, which, new ArraySource(series, null)).value ?? Number.NaN;
  const contributions =
    rule.method === 'historical'
      ? (w: Float64Array, p: Float64Array) => tailContributions(returns, w, p, rule.confidence, rule.horizon)
      : (w: Float64Array) => numericEulerContributions(returns, w, measure);
  const before = contributions(snapshot.weights, snapshot.portfolioReturns ?? new Float64Array(0));
  const cut = seriesContributionCut(returns, snapshot.weights, measure, contributions, target);
  const ratios: Record<string, number> = {};
  const parts: Record<string, number> = {};
  snapshot.ids.forEach((id, i) => {
    parts[id] = round(before[i]!);
    const r = cut.ratios[i]!;
    if (r > 0) ratios[id] = r;
  });
  measurement.evidence.components = parts;
  measurement.evidence.contribution_cut_reached = cut.reached;
  measurement.contributionSizing = {
    ratios,
    after: cut.after,
    reached: cut.reached,
    order: cut.order.map((i) => snapshot.ids[i]!),
  };
}

function toMeasurement(
  scopeKey: string,
  strategies: string[],
  outcome: Outcome,
  head: Record<string, unknown>,
): RuleMeasurement {
  if (outcome.value === null)
    return unavailable(scopeKey, strategies, outcome.reason, Object.assign({}, head, outcome.evidence));
  return { scopeKey, value: outcome.value, strategies, evidence: Object.assign({}, head, outcome.evidence) };
}

function pct(confidence: number): string {
  return `${round(confidence * 100)}%`;
}

/** The series methods as var-limit.ts calls them once loaded. */
export const seriesVarMethods: SeriesMethods = {
  world(rule, which, snapshot, series, input, strategies, head) {
    const measurement = toMeasurement(
      WORLD,
      strategies,
      seriesMeasure(rule, which, new ArraySource(series, sharedMeasuresOf(input))),
      head,
    );
    seriesContribution(rule, which, snapshot, measurement);
    return measurement;
  },
  position(rule, which, id, i, n, input, head) {
    const position = new PositionSource(n, i, sharedMeasuresOf(input));
    return toMeasurement(id, [id], seriesMeasure(rule, which, position), head);
  },
};
