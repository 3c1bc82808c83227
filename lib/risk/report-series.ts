import { CORNISH_FISHER_MIN_OBSERVATIONS, cornishFisherFromMoments } from './cornish-fisher.js';
import { historicalTailCount, historicalTailOfLosses } from './historical.js';
import type { ModelFigures, RiskReportOptions } from './report.js';
import type { SeriesPass } from './report-kernels.js';
import { dofFromKurtosis, studentTVarEs } from './student-t.js';

// The report's measures read from the portfolio return series: historical VaR/ES from its losses,
// Student-t and Cornish–Fisher from its moments, the drawdown from its fused pass (report-kernels.ts).

/** The portfolio series' figures from its passes. */
export interface SeriesStats {
  t: number;
  mean: number;
  pass: SeriesPass;
  moments: { std: number; skewness: number; excessKurtosis: number };
}

type SeriesFigures = Omit<ModelFigures, 'normal'>;

export function modelFigures(
  stats: SeriesStats | null,
  losses: Float64Array,
  options: RiskReportOptions,
  warnings: string[],
): { var: SeriesFigures; es: SeriesFigures; drawdown: { current: number; max: number } | null } {
  const { confidence, horizon } = options;
  const none: SeriesFigures = { student_t: null, cornish_fisher: null, historical: null };
  const dd = stats && { current: stats.pass.drawdownCurrent, max: stats.pass.drawdownMax };
  if (!stats || stats.t < 2) {
    if (stats)
      warnings.push('fewer than 2 realized returns: Student-t, Cornish–Fisher and historical are null');
    else warnings.push('no realized returns: Student-t, Cornish–Fisher, historical and drawdown are null');
    return { var: { ...none }, es: { ...none }, drawdown: dd };
  }
  const out = { var: { ...none }, es: { ...none }, drawdown: dd };
  const t = stats.t;
  const hist = historicalTailOfLosses(losses, t, historicalTailCount(t, confidence), horizon);
  out.var.historical = hist.var;
  out.es.historical = hist.es;
  if (t * (1 - confidence) < 1)
    warnings.push(
      `only ${t} realized returns: historical VaR and ES at ${confidence} are the single worst loss`,
    );

  const m = stats.moments;
  const mu = options.withMean ? stats.mean : 0;
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
    const t = studentTVarEs(m.std, confidence, dof, horizon, mu);
    out.var.student_t = t.var;
    out.es.student_t = t.es;
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
