import {
  type Drawdown,
  drawdown,
  type HistoricalTail,
  historicalTail,
  moments,
  type SeriesMoments,
} from '#lib/risk/index.js';
import type { PreparedSnapshot } from './types.js';

/**
 * What several rules of one evaluation compute from the same series: moments, historical tails,
 * drawdowns and each strategy's position series wᵢ·rᵢ. One instance lives for one evaluation
 * (`evaluateRuleSet` makes it), so nothing is reused across snapshots or kept after the evaluation.
 * Results are the very numbers the plain functions give (the same function on the same array);
 * callers must not change the arrays they get.
 */
export class SharedMeasures {
  private readonly momentsOf = new WeakMap<Float64Array, SeriesMoments>();
  private readonly tailsOf = new WeakMap<Float64Array, Map<string, HistoricalTail>>();
  private readonly drawdownsOf = new WeakMap<Float64Array, Map<number, Drawdown>>();
  private readonly positions: (Float64Array | undefined)[] = [];

  constructor(private readonly snapshot: PreparedSnapshot) {}

  /** `moments(series)`, once per series. */
  moments(series: Float64Array): SeriesMoments {
    let m = this.momentsOf.get(series);
    if (!m) {
      m = moments(series);
      this.momentsOf.set(series, m);
    }
    return m;
  }

  /** `historicalTail(series, confidence, horizon)`, once per series, confidence and horizon. */
  historicalTail(series: Float64Array, confidence: number, horizon: number): HistoricalTail {
    let byKey = this.tailsOf.get(series);
    if (!byKey) {
      byKey = new Map();
      this.tailsOf.set(series, byKey);
    }
    const key = `${confidence}|${horizon}`;
    let tail = byKey.get(key);
    if (!tail) {
      tail = historicalTail(series, confidence, horizon);
      byKey.set(key, tail);
    }
    return tail;
  }

  /** `drawdown` of the last `lookback` values of `series` (all of it when absent or longer). */
  drawdown(series: Float64Array, lookback: number | undefined): Drawdown {
    let byLookback = this.drawdownsOf.get(series);
    if (!byLookback) {
      byLookback = new Map();
      this.drawdownsOf.set(series, byLookback);
    }
    const span = lookback !== undefined && series.length > lookback ? lookback : series.length;
    let dd = byLookback.get(span);
    if (!dd) {
      dd = drawdown(span === series.length ? series : series.subarray(series.length - span));
      byLookback.set(span, dd);
    }
    return dd;
  }

  /** Strategy i's position series wᵢ·rᵢ,t, or undefined without per-strategy returns. */
  position(i: number): Float64Array | undefined {
    const returns = this.snapshot.returns?.[i];
    if (!returns) return undefined;
    let scaled = this.positions[i];
    if (!scaled) {
      const w = this.snapshot.weights[i]!;
      scaled = new Float64Array(returns.length);
      for (let t = 0; t < returns.length; t++) scaled[t] = w * returns[t]!;
      this.positions[i] = scaled;
    }
    return scaled;
  }
}

/** The evaluation's shared measures, or a fresh set for a rule measured on its own (tests, tools). */
export function sharedMeasuresOf(input: {
  snapshot: PreparedSnapshot;
  shared?: SharedMeasures;
}): SharedMeasures {
  return input.shared ?? new SharedMeasures(input.snapshot);
}
