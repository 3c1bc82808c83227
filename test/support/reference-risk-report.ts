import {
  CORNISH_FISHER_MIN_OBSERVATIONS,
  componentEs,
  componentVar,
  cornishFisherFromMoments,
  dofFromKurtosis,
  drawdown,
  historicalTail,
  type ModelFigures,
  mean,
  moments,
  normalEs,
  normalVar,
  type PreparedRiskInput,
  portfolioSeries,
  portfolioSigma,
  RiskInputError,
  type RiskReport,
  type RiskReportOptions,
  type StrategyRisk,
  studentTEs,
  studentTVar,
} from '#lib/risk/index.js';

// The straightforward risk report the fast one in lib/risk/report.ts is checked against: every
// measure from the library's single-purpose functions, nothing shared or fused.

/** The report as first written: each measure from its own library function, Σ read five times. */
export function referenceRiskReport(input: PreparedRiskInput, options: RiskReportOptions): RiskReport {
  const { confidence, horizon, withMean } = options;
  const { ids, weights: w, covariance: cov, byStrategy } = input;
  const warnings = [...input.warnings];
  const series = byStrategy ? portfolioSeries(byStrategy, w) : input.portfolioReturns;

  if (withMean && !series)
    warnings.push('--with-mean ignored: no realized returns to estimate the mean from');
  const meanP = withMean && series && series.length > 0 ? mean(series) : 0;
  let sigma: number;
  if (cov) {
    sigma = portfolioSigma(w, cov);
    if (Number.isNaN(sigma))
      throw new RiskInputError(
        'portfolio variance wᵀΣw is negative: the covariance is not positive semi-definite',
      );
  } else if (series && series.length >= 2) {
    sigma = moments(series).std;
    warnings.push(
      'no covariance and only a portfolio return series: sigma from that series, no per-strategy figures',
    );
  } else {
    throw new RiskInputError('snapshot has neither a covariance nor enough realized returns (at least 2)');
  }

  const figures = modelFigures(series, options, warnings);
  const strategies: Record<string, StrategyRisk> = {};
  if (cov) {
    const means = withMean && byStrategy ? byStrategy.map((r) => mean(r)) : undefined;
    if (withMean && series && !byStrategy)
      warnings.push('per-strategy means unknown (bare portfolio series): component figures use zero means');
    const cv = componentVar(w, cov, confidence, horizon, means);
    const ce = componentEs(w, cov, confidence, horizon, means);
    ids.forEach((id, i) => {
      strategies[id] = {
        weight: w[i]!,
        marginal_var: cv.marginal[i]!,
        component_var: cv.component[i]!,
        component_es: ce.component[i]!,
        var_share: cv.total !== 0 ? cv.component[i]! / cv.total : null,
      };
    });
  } else {
    ids.forEach((id, i) => {
      strategies[id] = {
        weight: w[i]!,
        marginal_var: null,
        component_var: null,
        component_es: null,
        var_share: null,
      };
    });
  }
  return {
    world_id: input.world_id,
    as_of: input.as_of,
    confidence,
    horizon,
    portfolio: {
      sigma: sigma * Math.sqrt(horizon),
      var: { normal: normalVar(sigma, confidence, horizon, meanP), ...figures.var },
      es: { normal: normalEs(sigma, confidence, horizon, meanP), ...figures.es },
      drawdown: figures.drawdown,
    },
    strategies,
    warnings,
  };
}

type SeriesFigures = Omit<ModelFigures, 'normal'>;

function modelFigures(
  series: Float64Array | null,
  options: RiskReportOptions,
  warnings: string[],
): { var: SeriesFigures; es: SeriesFigures; drawdown: { current: number; max: number } | null } {
  const { confidence, horizon } = options;
  const none: SeriesFigures = { student_t: null, cornish_fisher: null, historical: null };
  if (!series || series.length < 2) {
    if (series)
      warnings.push('fewer than 2 realized returns: Student-t, Cornish–Fisher and historical are null');
    else warnings.push('no realized returns: Student-t, Cornish–Fisher, historical and drawdown are null');
    return { var: { ...none }, es: { ...none }, drawdown: series ? drawdown(series) : null };
  }
  const out = { var: { ...none }, es: { ...none }, drawdown: drawdown(series) };
  const t = series.length;
  const hist = historicalTail(series, confidence, horizon);
  out.var.historical = hist.var;
  out.es.historical = hist.es;
  if (t * (1 - confidence) < 1)
    warnings.push(
      `only ${t} realized returns: historical VaR and ES at ${confidence} are the single worst loss`,
    );

  const m = moments(series);
  const mu = options.withMean ? m.mean : 0;
  let dof = options.dof;
  if (dof === undefined) {
    if (t < 4 || !Number.isFinite(m.excessKurtosis)) {
      warnings.push(
        'Student-t null: too few or constant returns to estimate the degrees of freedom (pass --dof)',
      );
    } else {
      const est = dofFromKurtosis(m.excessKurtosis);
      dof = est.dof;
      if (est.bounded)
        warnings.push(
          `Student-t degrees of freedom ${dof} bounded (excess kurtosis ${m.excessKurtosis.toFixed(3)} gives 4 + 6/K outside [4, 100])`,
        );
    }
  }
  if (dof !== undefined && m.std > 0) {
    out.var.student_t = studentTVar(m.std, confidence, dof, horizon, mu);
    out.es.student_t = studentTEs(m.std, confidence, dof, horizon, mu);
  } else if (dof !== undefined) warnings.push('Student-t null: the portfolio return series is constant');

  const cf =
    t < CORNISH_FISHER_MIN_OBSERVATIONS
      ? { ok: false as const, reason: `needs at least ${CORNISH_FISHER_MIN_OBSERVATIONS} returns` }
      : cornishFisherFromMoments({ ...m, mean: mu }, confidence, horizon);
  if (cf.ok) {
    out.var.cornish_fisher = cf.var;
    out.es.cornish_fisher = cf.es;
  } else warnings.push(`Cornish–Fisher null: ${cf.reason}`);
  if (t < 30) warnings.push(`only ${t} realized returns: moment-based and historical measures are noisy`);
  return out;
}
