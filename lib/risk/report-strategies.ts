import type { StrategyRisk } from './report.js';

// The report's per-strategy figures, the Euler decomposition of the normal VaR and ES. They are
// computed with the report, as columns of one array (as numpy computes its vectors); the record
// keyed by strategy id that the report shows is built from them when first read. A V8 object with
// hundreds of string keys is a hash table, and filling one with n small objects costs more than
// every other step of the report but the two matrix sweeps (~150 µs at N=1,000, ~40 µs at N=200):
// a caller that reads only the portfolio figures should not pay for it.

/** Fields per strategy in `StrategyColumns.values`. */
const FIELDS = 5;

/** Per strategy i, at values[5i ..]: weight, marginal VaR, component VaR, component ES, VaR share. */
export interface StrategyColumns {
  ids: readonly string[];
  values: Float64Array;
  /** The total VaR is 0, so no share is defined (every var_share is null). */
  sharesNull: boolean;
}

/** What the decomposition needs besides Σw: the multipliers k = z·√h/σ and the per-strategy means. */
export interface Decomposition {
  /** z_VaR·√h/σ (0 when σ = 0). */
  kVar: number;
  /** z_ES·√h/σ (0 when σ = 0). */
  kEs: number;
  /** The portfolio's normal VaR less the weighted means: the denominator of the shares. */
  totalVar: number;
  /** μᵢ·h per strategy, or undefined for the zero-mean convention. */
  means?: Float64Array;
}

/**
 * The columns from Σw: marginal VaRᵢ = (Σw)ᵢ·kVar − μᵢ, component VaRᵢ = wᵢ·marginalᵢ, component ESᵢ
 * = wᵢ·((Σw)ᵢ·kEs − μᵢ), shareᵢ = componentᵢ / total VaR.
 */
export function strategyColumns(
  ids: readonly string[],
  w: Float64Array,
  sw: Float64Array,
  d: Decomposition,
): StrategyColumns {
  const n = ids.length;
  const values = new Float64Array(FIELDS * n);
  const { kVar, kEs, totalVar, means } = d;
  const sharesNull = totalVar === 0;
  for (let i = 0, o = 0; i < n; i++, o += FIELDS) {
    const mu = means ? means[i]! : 0;
    const wi = w[i]!;
    const marginal = sw[i]! * kVar - mu;
    const component = wi * marginal;
    values[o] = wi;
    values[o + 1] = marginal;
    values[o + 2] = component;
    values[o + 3] = wi * (sw[i]! * kEs - mu);
    values[o + 4] = sharesNull ? 0 : component / totalVar;
  }
  return { ids, values, sharesNull };
}

/** The record the report shows, from the columns. */
export function strategyRecord(columns: StrategyColumns): Record<string, StrategyRisk> {
  const { ids, values, sharesNull } = columns;
  const out: Record<string, StrategyRisk> = {};
  for (let i = 0, o = 0; i < ids.length; i++, o += FIELDS)
    out[ids[i]!] = {
      weight: values[o]!,
      marginal_var: values[o + 1]!,
      component_var: values[o + 2]!,
      component_es: values[o + 3]!,
      var_share: sharesNull ? null : values[o + 4]!,
    };
  return out;
}

/** Without a covariance: weights only, every decomposed figure null. */
export function undecomposedRecord(ids: readonly string[], w: Float64Array): Record<string, StrategyRisk> {
  const out: Record<string, StrategyRisk> = {};
  for (let i = 0; i < ids.length; i++)
    out[ids[i]!] = {
      weight: w[i]!,
      marginal_var: null,
      component_var: null,
      component_es: null,
      var_share: null,
    };
  return out;
}
