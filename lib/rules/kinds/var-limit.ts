import { componentEs, componentVar } from '#lib/risk/components.js';
import { normalEs, normalEsMultiplier, normalVar, normalVarMultiplier } from '#lib/risk/parametric.js';
import { portfolioSigma } from '#lib/risk/portfolio.js';
import { contributionCut } from '#lib/risk/sizing.js';
import type { RuleOf } from '../rule-schema.js';
import type { PreparedSnapshot, RuleInput, RuleKindEvaluator, RuleMeasurement } from '../types.js';
import { heldStrategies, RuleKindNotLoadedError, round, unavailable, WORLD } from './shared.js';

export type VarRule = RuleOf<'var_limit'> | RuleOf<'es_limit'>;
export type Which = 'var' | 'es';

/**
 * The series methods (student_t, cornish_fisher, historical): var-limit-series.ts, loaded with the
 * kinds the default rule set lacks (`loadRuleKinds`), which hands them over through `provideSeriesMethods`.
 */
export interface SeriesMethods {
  /** The world's measure of the portfolio series, with contribution sizing where the rule asks for it. */
  world(
    rule: VarRule,
    which: Which,
    snapshot: PreparedSnapshot,
    series: Float64Array,
    input: RuleInput,
    strategies: string[],
    head: Record<string, unknown>,
  ): RuleMeasurement;
  /** Strategy `id`'s stand-alone measure of its position wᵢ·rᵢ (n returns). */
  position(
    rule: VarRule,
    which: Which,
    id: string,
    i: number,
    n: number,
    input: RuleInput,
    head: Record<string, unknown>,
  ): RuleMeasurement;
}

let seriesMethods: SeriesMethods | undefined;

/** Called by `loadRuleKinds` once the series methods are loaded. */
export function provideSeriesMethods(methods: SeriesMethods): void {
  seriesMethods = methods;
}

/** Whether rules by this method can be measured without loading the series methods. */
export function isBuiltInVarMethod(method: unknown): boolean {
  return method === 'normal';
}

function series(rule: VarRule): SeriesMethods {
  if (seriesMethods === undefined) throw new RuleKindNotLoadedError(rule.kind, rule.method);
  return seriesMethods;
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

function measureVar(which: Which, rule: VarRule, input: RuleInput): RuleMeasurement[] {
  const { snapshot } = input;
  const head = { method: rule.method, measure: which, confidence: rule.confidence, horizon: rule.horizon };
  if (rule.scope === 'world') {
    const strategies = heldStrategies(snapshot);
    if (rule.method === 'normal') return [worldNormal(rule, which, snapshot, strategies)];
    const portfolio = snapshot.portfolioReturns;
    if (!portfolio)
      return [
        unavailable(WORLD, strategies, `${rule.method} needs realized returns; the snapshot has none`, head),
      ];
    return [series(rule).world(rule, which, snapshot, portfolio, input, strategies, head)];
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
    return series(rule).position(rule, which, id, i, returns.length, input, head_);
  });
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
