import { commonLength, covarianceFromMap, repairCovariance, sampleCovariance } from './covariance.js';
import { attachedCovariance } from './covariance-compact.js';
import { assertConfidence, assertHorizon } from './distributions.js';
import { kernelMemoryOf, placeInKernelMemory } from './kernel-memory.js';
import { normalEs, normalEsMultiplier, normalVar, normalVarMultiplier } from './parametric.js';
import {
  centredMoments,
  dot,
  matrixSeriesInto,
  portfolioSeriesInto,
  scratch,
  scratchSource,
  seriesPass,
  symmetricTimes,
} from './report-kernels.js';
import { modelFigures, type SeriesStats } from './report-series.js';
import {
  type Decomposition,
  defineStrategies,
  type SwSource,
  undecomposedRecord,
} from './report-strategies.js';
import { mean } from './stats.js';

/** The parts of a validated snapshot the report reads (structurally compatible with the contracts' Snapshot). */
export interface RiskSnapshotInput {
  world_id: string;
  as_of: string;
  weights: Record<string, number>;
  /** Keys "a,b" or "a:b", either order. */
  covariance?: Record<string, number> | null;
  /** Per strategy, or a bare array: the portfolio's own return series. */
  realized_returns?: Record<string, readonly number[]> | readonly number[] | null;
}

/** How to compute the report. */
export interface RiskReportOptions {
  confidence: number;
  horizon: number;
  /** Student-t degrees of freedom; estimated from the portfolio's excess kurtosis when absent. */
  dof?: number;
  /** Subtract the sample mean (μ·h) instead of the zero-mean RiskMetrics convention. */
  withMean: boolean;
  /** Clip negative eigenvalues of a non-PSD covariance instead of failing. Default false. */
  repair?: boolean;
  /** Largest N for the O(N³) PSD test of the covariance (above it only O(N²) checks run). Default 64. */
  psdCheckMaxN?: number;
}

/** A measure under each model; null where the inputs do not allow it (the reason is in `warnings`). */
export interface ModelFigures {
  normal: number;
  student_t: number | null;
  cornish_fisher: number | null;
  historical: number | null;
}

/** Risk figures of one strategy; null when no covariance allows a decomposition. */
export interface StrategyRisk {
  weight: number;
  marginal_var: number | null;
  component_var: number | null;
  component_es: number | null;
  var_share: number | null;
}

/** The `exit-engine risk` output: positive losses as fractions of portfolio value. */
export interface RiskReport {
  world_id: string;
  as_of: string;
  confidence: number;
  horizon: number;
  portfolio: {
    /** σ_P over the horizon (per-period σ·√h). */
    sigma: number;
    var: ModelFigures;
    es: ModelFigures;
    drawdown: { current: number; max: number } | null;
  };
  strategies: Record<string, StrategyRisk>;
  warnings: string[];
}

/** Inputs that cannot produce a report (empty weights, a broken covariance map, no data at all). */
export class RiskInputError extends Error {
  override readonly name = 'RiskInputError';
}

const DEFAULT_PSD_CHECK_MAX_N = 64;

function toSeries(values: readonly number[], label: string): Float64Array {
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i]!)) throw new RiskInputError(`${label}[${i}] is not a finite number`);
  return out;
}

function readStrategyReturns(
  snapshot: RiskSnapshotInput,
  ids: string[],
  w: Float64Array,
  warnings: string[],
): Float64Array[] | null {
  const map = snapshot.realized_returns as Record<string, readonly number[]>;
  const extra = Object.keys(map).filter((id) => !(id in snapshot.weights));
  if (extra.length > 0) warnings.push(`realized returns ignored for ${extra.join(', ')}: not in the weights`);
  const missing = ids.filter((id, i) => (map[id]?.length ?? 0) === 0 && w[i] !== 0);
  if (missing.length > 0) {
    warnings.push(
      `realized returns missing for ${missing.join(', ')}: no portfolio return series, so Student-t, Cornish–Fisher, historical and drawdown are null`,
    );
    return null;
  }
  const byStrategy = ids.map((id) => toSeries(map[id] ?? [], `realized_returns.${id}`));
  const lengths = byStrategy.filter((r) => r.length > 0).map((r) => r.length);
  const t = lengths.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  // A zero-weight strategy without history contributes nothing; give it zeros so the matrix stays whole.
  for (let i = 0; i < byStrategy.length; i++) {
    if (byStrategy[i]!.length === 0) {
      byStrategy[i] = new Float64Array(t);
      warnings.push(`realized returns missing for ${ids[i]} (weight 0): treated as zero`);
    }
  }
  if (lengths.some((l) => l !== t))
    warnings.push(`realized return series have different lengths: using the last ${t} common observations`);
  return byStrategy;
}

function resolveCovariance(
  snapshot: RiskSnapshotInput,
  ids: string[],
  byStrategy: Float64Array[] | null,
  options: Pick<RiskReportOptions, 'repair' | 'psdCheckMaxN'>,
  warnings: string[],
): Float64Array | null {
  const n = ids.length;
  const check = { psdCheckMaxN: options.psdCheckMaxN ?? DEFAULT_PSD_CHECK_MAX_N };
  const result = snapshot.covariance
    ? covarianceFromMap(snapshot.covariance, ids, check)
    : attachedCovariance(snapshot, ids, check);
  if (result) {
    if (!result.ok) throw new RiskInputError(`covariance unusable: ${result.issues.join('; ')}`);
    if (result.warnings.length === 0) return result.matrix;
    if (options.repair) {
      warnings.push(...result.warnings, 'covariance repaired by clipping negative eigenvalues to zero');
      return repairCovariance(result.matrix, n);
    }
    warnings.push(...result.warnings);
    return result.matrix;
  }
  if (byStrategy?.[0] && byStrategy[0].length >= 2) {
    warnings.push(
      `no covariance in the snapshot: using the sample covariance of ${byStrategy[0].length} realized returns`,
    );
    return sampleCovariance(byStrategy);
  }
  return null;
}

/**
 * A snapshot turned into arrays: weights and covariance in `ids` order, return series as Float64Array.
 * This is the parse step (a 1,000-strategy covariance map has half a million keys, and merely
 * enumerating them costs V8 ~150 ms); rules that evaluate one snapshot many times should prepare once.
 */
export interface PreparedRiskInput {
  world_id: string;
  as_of: string;
  ids: string[];
  weights: Float64Array;
  /** Row-major n×n, from the snapshot's map, else the sample covariance of the returns; null without either. */
  covariance: Float64Array | null;
  byStrategy: Float64Array[] | null;
  /**
   * The same returns as one row-major n×t block (each strategy's last t common observations), which
   * the report sweeps faster than n separate arrays. Optional: built by `prepareRiskInput`.
   */
  returnMatrix?: Float64Array | null;
  /** The snapshot's bare portfolio return series, when it gave one instead of per-strategy returns. */
  portfolioReturns: Float64Array | null;
  /** Findings of the parse (covariance hygiene, missing or misaligned returns). */
  warnings: string[];
}

function returnMatrixOf(byStrategy: readonly Float64Array[]): Float64Array {
  const t = commonLength(byStrategy);
  const matrix = new Float64Array(byStrategy.length * t);
  for (const [i, r] of byStrategy.entries()) matrix.set(r.subarray(r.length - t), i * t);
  return matrix;
}

/** Parses and checks a snapshot into arrays (see `PreparedRiskInput`); throws RiskInputError when it cannot be used. */
export function prepareRiskInput(
  snapshot: RiskSnapshotInput,
  options: Pick<RiskReportOptions, 'repair' | 'psdCheckMaxN'> = {},
): PreparedRiskInput {
  const ids = Object.keys(snapshot.weights);
  if (ids.length === 0) throw new RiskInputError('snapshot has no weights');
  const n = ids.length;
  const w = new Float64Array(n);
  ids.forEach((id, i) => {
    const v = snapshot.weights[id];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RiskInputError(`weight of ${id} is not a finite number`);
    w[i] = v;
  });
  const warnings: string[] = [];
  const rr = snapshot.realized_returns;
  const portfolioReturns = Array.isArray(rr) ? toSeries(rr, 'realized_returns') : null;
  const byStrategy =
    rr != null && !Array.isArray(rr) ? readStrategyReturns(snapshot, ids, w, warnings) : null;
  const resolved = resolveCovariance(snapshot, ids, byStrategy, options, warnings);
  // Where the SIMD kernels can read them (see kernel-memory.ts); the same values either way.
  const placed = placeInKernelMemory(
    n,
    byStrategy ? commonLength(byStrategy) : 0,
    resolved,
    byStrategy ? returnMatrixOf(byStrategy) : null,
  );
  return {
    world_id: snapshot.world_id,
    as_of: snapshot.as_of,
    ids,
    weights: w,
    covariance: placed.covariance,
    byStrategy,
    returnMatrix: placed.returns,
    portfolioReturns,
    warnings,
  };
}

/** The full risk report of a snapshot: portfolio measures under each model, per-strategy contributions, warnings. */
export function buildRiskReport(snapshot: RiskSnapshotInput, options: RiskReportOptions): RiskReport {
  checkOptions(options);
  return riskReportFromInput(prepareRiskInput(snapshot, options), options);
}

function checkOptions(options: RiskReportOptions): void {
  assertConfidence(options.confidence);
  assertHorizon(options.horizon);
  if (options.dof !== undefined && !(options.dof > 2))
    throw new RangeError(`degrees of freedom must exceed 2, got ${options.dof}`);
}

/**
 * The risk report of an already prepared snapshot (the hot path). Σ is read once, for Σw, from
 * which σ and both Euler decompositions follow; the return matrix is swept once for the portfolio
 * series, which then gets one fused pass (mean, drawdown, losses) and one for its central moments.
 * test/support/reference-risk-report.ts is the plain version it must agree with.
 */
export function riskReportFromInput(input: PreparedRiskInput, options: RiskReportOptions): RiskReport {
  checkOptions(options);
  const { confidence, horizon, withMean } = options;
  const { ids, weights: w, covariance: cov, byStrategy } = input;
  const n = ids.length;
  const warnings = [...input.warnings];
  // A return matrix in kernel memory was built from byStrategy's common length: reading it there
  // spares a walk over n arrays' lengths (n cache misses at N=1,000).
  const placed = byStrategy ? kernelMemoryOf(input.returnMatrix) : undefined;
  const t = !byStrategy
    ? (input.portfolioReturns?.length ?? 0)
    : placed && placed.n === n
      ? placed.t
      : commonLength(byStrategy);
  const buffers = scratch(n, 2 * t);
  let series = buffers.b;
  let stats: SeriesStats | null = null;
  if (byStrategy || input.portfolioReturns) {
    const matrix = input.returnMatrix;
    if (byStrategy && placed && placed.n === n) series = placed.portfolioSeries(w);
    else if (byStrategy && matrix && matrix.length === n * t) matrixSeriesInto(matrix, w, n, t, series);
    else if (byStrategy) portfolioSeriesInto(byStrategy, w, t, series);
    else series.set(input.portfolioReturns as Float64Array);
  }
  const losses = series.subarray(t, 2 * t);
  if (byStrategy || input.portfolioReturns) {
    const pass = seriesPass(series, t, losses);
    const mean = pass.sum / t;
    stats = { t, mean, pass, moments: centredMoments(series, t, mean) };
  }

  if (withMean && !stats) warnings.push('--with-mean ignored: no realized returns to estimate the mean from');
  const meanP = withMean && stats && t > 0 ? stats.mean : 0;
  let sigma: number;
  let variance = 0;
  let sw = buffers.a;
  let swSource: SwSource = scratchSource;
  if (cov) {
    const memory = kernelMemoryOf(cov);
    if (memory && memory.n === n) {
      sw = memory.sigmaTimes(w);
      swSource = memory;
    } else symmetricTimes(cov, w, n, sw);
    variance = dot(w, sw, n);
    // Round-off can leave a tiny negative for a zero-risk portfolio; a real negative means a bad matrix.
    if (!(variance >= -1e-15))
      throw new RiskInputError(
        'portfolio variance wᵀΣw is negative: the covariance is not positive semi-definite',
      );
    sigma = variance < 0 ? 0 : Math.sqrt(variance);
  } else if (stats && t >= 2) {
    sigma = stats.moments.std;
    warnings.push(
      'no covariance and only a portfolio return series: sigma from that series, no per-strategy figures',
    );
  } else {
    throw new RiskInputError('snapshot has neither a covariance nor enough realized returns (at least 2)');
  }

  const figures = modelFigures(stats, losses, options, warnings);
  let decomposed: Decomposition | null = null;
  let strategies: Record<string, StrategyRisk> | undefined;
  if (cov) {
    if (withMean && stats && !byStrategy)
      warnings.push('per-strategy means unknown (bare portfolio series): component figures use zero means');
    const root = Math.sqrt(horizon);
    const zVar = normalVarMultiplier(confidence);
    const zEs = normalEsMultiplier(confidence);
    let means: Float64Array | undefined;
    let weightedMean = 0;
    if (withMean && byStrategy) {
      means = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        means[i] = mean(byStrategy[i]!) * horizon;
        weightedMean += w[i]! * means[i]!;
      }
    }
    decomposed = {
      ids,
      weights: w,
      covariance: cov,
      sw,
      source: swSource,
      generation: swSource.generation,
      kVar: sigma > 0 ? (zVar * root) / sigma : 0,
      kEs: sigma > 0 ? (zEs * root) / sigma : 0,
      totalVar: zVar * sigma * root - weightedMean,
      means,
    };
  } else strategies = undecomposedRecord(ids, w);
  const report = defineStrategies(
    {
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
    },
    // Built from Σw when first read (see report-strategies.ts).
    decomposed,
    strategies,
  );
  return Object.assign(report, { warnings });
}
