import {
  componentEs,
  componentVar,
  contributionCut,
  cornishFisherFromMoments,
  dofFromKurtosis,
  type HistoricalTail,
  historicalTail,
  moments,
  normalEs,
  normalEsMultiplier,
  normalVar,
  normalVarMultiplier,
  portfolioSigma,
  type SeriesMoments,
  studentTVarEs,
} from '#lib/risk/index.js';
import {
  numericEulerContributions,
  seriesContributionCut,
  tailContributions,
} from '#lib/risk/series-sizing.js';
import { type Measures, sharedMeasuresOf } from '#lib/rules/shared-measures.js';
import type { RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleInput, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, round, unavailable, WORLD } from './shared.js';

type VarRule = RuleOf<'var_limit'> | RuleOf<'es_limit'>;
type Which = 'var' | 'es';

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

/** World VaR/ES by the normal method on the snapshot covariance, with Euler components and sizing. */
function worldNormal(
  rule: VarRule,
  which: Which,
  snapshot: PreparedSnapshot,
  strategies: string[],
): RuleMeasurement {
  const { confidence, horizon } = rule;
  const cov = snapshot.covariance;
  const head = {
    method: 'normal',
    measure: which,
    confidence,
    horizon,
    covariance_source: snapshot.covarianceSource,
  };
  if (!cov)
    return unavailable(
      WORLD,
      strategies,
      'normal method needs a covariance; the snapshot has none and no returns to estimate one',
      head,
    );
  const w = snapshot.weights;
  const sigma = portfolioSigma(w, cov);
  if (!Number.isFinite(sigma)) {
    return unavailable(WORLD, strategies, 'covariance is not positive semi-definite (wᵀΣw < 0)', head);
  }
  const varValue = normalVar(sigma, confidence, horizon);
  const esValue = normalEs(sigma, confidence, horizon);
  const value = which === 'var' ? varValue : esValue;
  const parts = (which === 'var' ? componentVar : componentEs)(w, cov, confidence, horizon);
  const components: Record<string, number> = {};
  snapshot.ids.forEach((id, i) => {
    components[id] = round(parts.component[i]!);
  });
  const measurement: RuleMeasurement = {
    scopeKey: WORLD,
    value,
    strategies,
    evidence: Object.assign({}, head, {
      sigma: round(sigma),
      var: round(varValue),
      es: round(esValue),
      components,
    }),
  };
  const target = rule.target ?? rule.limit;
  if (rule.action.type === 'reduce' && rule.action.sizing === 'contribution' && value > target) {
    // contributionCut aims at a VaR; normal ES is the same multiple of σ, so convert the target and the result.
    const esPerVar = normalEsMultiplier(confidence) / normalVarMultiplier(confidence);
    const targetVar = which === 'var' ? target : target / esPerVar;
    const cut = contributionCut(w, cov, confidence, horizon, targetVar);
    const ratios: Record<string, number> = {};
    snapshot.ids.forEach((id, i) => {
      const r = cut.ratios[i]!;
      if (r > 0) ratios[id] = r;
    });
    measurement.contributionSizing = {
      ratios,
      after: which === 'var' ? cut.after : cut.after * esPerVar,
      reached: cut.reached,
    };
    // Not reached: even cutting every positive contributor cannot bring the measure down to the target.
    measurement.evidence.contribution_cut_reached = cut.reached;
  }
  return measurement;
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

function measureVar(which: Which, rule: VarRule, input: RuleInput): RuleMeasurement[] {
  const { snapshot } = input;
  const shared = sharedMeasuresOf(input);
  const head = { method: rule.method, measure: which, confidence: rule.confidence, horizon: rule.horizon };
  if (rule.scope === 'world') {
    const strategies = heldStrategies(snapshot);
    if (rule.method === 'normal') return [worldNormal(rule, which, snapshot, strategies)];
    const series = snapshot.portfolioReturns;
    if (!series)
      return [
        unavailable(WORLD, strategies, `${rule.method} needs realized returns; the snapshot has none`, head),
      ];
    const measurement = toMeasurement(
      WORLD,
      strategies,
      seriesMeasure(rule, which, new ArraySource(series, shared)),
      head,
    );
    seriesContribution(rule, which, snapshot, measurement);
    return [measurement];
  }
  // Strategy scope: each strategy's stand-alone VaR/ES of its own position wᵢ·rᵢ (not its component).
  return snapshot.ids.map((id, i) => {
    const w = snapshot.weights[i]!;
    const head_ = Object.assign({}, head, { weight: w });
    if (rule.method === 'normal') {
      const cov = snapshot.covariance;
      const variance = cov ? cov[i * snapshot.ids.length + i]! : Number.NaN;
      if (!cov)
        return unavailable(id, [id], 'normal method needs a covariance; the snapshot has none', head_);
      if (!(variance >= 0))
        return unavailable(id, [id], `covariance has no valid variance for '${id}'`, head_);
      const sigma = Math.abs(w) * Math.sqrt(variance);
      const v = normalVar(sigma, rule.confidence, rule.horizon);
      const e = normalEs(sigma, rule.confidence, rule.horizon);
      return {
        scopeKey: id,
        value: which === 'var' ? v : e,
        strategies: [id],
        evidence: Object.assign({}, head_, {
          covariance_source: snapshot.covarianceSource,
          sigma: round(sigma),
          var: round(v),
          es: round(e),
        }),
      };
    }
    const returns = snapshot.returns?.[i];
    if (!returns)
      return unavailable(
        id,
        [id],
        `${rule.method} needs realized returns per strategy; the snapshot has none`,
        head_,
      );
    const position = new PositionSource(returns.length, i, shared);
    return toMeasurement(id, [id], seriesMeasure(rule, which, position), head_);
  });
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

/**
 * `var_limit`: value-at-risk of the world (or of each strategy's own position) as a positive loss
 * fraction, by the rule's method. VaR and ES are positively homogeneous, so uniform sizing is exact.
 */
export const varLimit: RuleKindEvaluator<'var_limit'> = {
  kind: 'var_limit',
  homogeneous: true,
  measure: (rule, input) => measureVar('var', rule, input),
};

/** `es_limit`: expected shortfall, otherwise exactly as `var_limit`. */
export const esLimit: RuleKindEvaluator<'es_limit'> = {
  kind: 'es_limit',
  homogeneous: true,
  measure: (rule, input) => measureVar('es', rule, input),
};
