import { type Drawdown, drawdown } from '#lib/risk/drawdown.js';
import { type HistoricalTail, historicalTail, historicalTailCount } from '#lib/risk/historical.js';
import { moments, type SeriesMoments } from '#lib/risk/stats.js';
import { momentsOfFour, troughDrawdownOfFour } from './position-kernels.js';
import type { PreparedSnapshot } from './types.js';

/**
 * What rules measure from the snapshot's series: moments, historical tails, drawdowns and each
 * strategy's position series wᵢ·rᵢ. Callers must not change the arrays they get. (The market-structure
 * indicators, which only `correlation_breakdown` reads, are that kind's own: kinds/correlation-breakdown.ts.)
 */
export interface Measures {
  moments(series: Float64Array): SeriesMoments;
  historicalTail(series: Float64Array, confidence: number, horizon: number): HistoricalTail;
  /** `drawdown` of the last `lookback` values of `series` (all of it when absent or longer). */
  drawdown(series: Float64Array, lookback: number | undefined): Drawdown;
  /** Strategy i's position series wᵢ·rᵢ,t, or undefined without per-strategy returns. */
  position(i: number): Float64Array | undefined;
  /** `moments` of strategy i's position series, or undefined without per-strategy returns. */
  positionMoments(i: number): SeriesMoments | undefined;
}

/**
 * The measures as first written: each call is the lib/risk function on the series, nothing kept.
 * A rule measured on its own (tests, tools, the reference evaluation) gets these.
 */
export class PlainMeasures implements Measures {
  constructor(private readonly snapshot: PreparedSnapshot) {}
  moments(series: Float64Array): SeriesMoments {
    return moments(series);
  }
  historicalTail(series: Float64Array, confidence: number, horizon: number): HistoricalTail {
    return historicalTail(series, confidence, horizon);
  }
  drawdown(series: Float64Array, lookback: number | undefined): Drawdown {
    return drawdown(lookback !== undefined && series.length > lookback ? series.subarray(-lookback) : series);
  }
  position(i: number): Float64Array | undefined {
    const returns = this.snapshot.returns?.[i];
    return returns && positionSeries(returns, this.snapshot.weights[i]!);
  }
  positionMoments(i: number): SeriesMoments | undefined {
    const position = this.position(i);
    return position && moments(position);
  }
}

/**
 * The engine's measures for one evaluation (`evaluateRuleSet` makes one): each quantity computed
 * once however many rules read it, and by kernels that allocate little. Moments, tails, drawdowns and
 * positions are the very numbers `PlainMeasures` gives. Nothing is kept after the evaluation.
 */
export class SharedMeasures implements Measures {
  // Maps, not WeakMaps: the measures live one evaluation, and a fresh WeakMap's first entries (and
  // the collector's ephemeron pass over it) cost more than the whole lookup they save.
  private readonly momentsOf = new Map<Float64Array, SeriesMoments>();
  private readonly tailsOf = new Map<Float64Array, Map<string, HistoricalTail>>();
  private readonly drawdownsOf = new Map<Float64Array, Map<number, Drawdown>>();
  private readonly positions: (Float64Array | undefined)[] = [];
  private readonly positionMomentsOf: (SeriesMoments | undefined)[] = [];

  constructor(private readonly snapshot: PreparedSnapshot) {}

  moments(series: Float64Array): SeriesMoments {
    let m = this.momentsOf.get(series);
    if (!m) {
      m = moments(series);
      this.momentsOf.set(series, m);
    }
    return m;
  }

  historicalTail(series: Float64Array, confidence: number, horizon: number): HistoricalTail {
    let byKey = this.tailsOf.get(series);
    if (!byKey) {
      byKey = new Map();
      this.tailsOf.set(series, byKey);
    }
    const key = `${confidence}|${horizon}`;
    let tail = byKey.get(key);
    if (!tail) {
      tail = largestLossesTail(series, confidence, horizon);
      if (!tail) {
        if (tailScratch.length < series.length) tailScratch = new Float64Array(series.length);
        tail = historicalTail(series, confidence, horizon, tailScratch);
      }
      byKey.set(key, tail);
    }
    return tail;
  }

  drawdown(series: Float64Array, lookback: number | undefined): Drawdown {
    let byLookback = this.drawdownsOf.get(series);
    if (!byLookback) {
      byLookback = new Map();
      this.drawdownsOf.set(series, byLookback);
    }
    const span = lookback !== undefined && series.length > lookback ? lookback : series.length;
    let dd = byLookback.get(span);
    if (!dd) {
      const all = this.snapshot.returns;
      const i = all ? all.indexOf(series) : -1;
      if (i >= 0) return this.fourDrawdowns(all!, i, span);
      dd = troughDrawdown(series, series.length - span);
      byLookback.set(span, dd);
    }
    return dd;
  }

  /**
   * Strategy i's drawdown over its last `span` returns, and in the same pass those of up to three
   * later strategies with series as long (a rule reading one strategy's drawdown reads them all).
   */
  private fourDrawdowns(all: readonly Float64Array[], i: number, span: number): Drawdown {
    const series = all[i]!;
    const group = [i];
    for (let j = i + 1; j < all.length && group.length < 4; j++)
      if (all[j]?.length === series.length && !this.drawdownsOf.get(all[j]!)?.has(span)) group.push(j);
    // Fewer than four: the last slots repeat strategy i and are dropped.
    const at = (k: number) => all[group[k] ?? i]!;
    const four = troughDrawdownOfFour(at(0), at(1), at(2), at(3), series.length - span);
    for (let k = 0; k < group.length; k++) {
      const s = all[group[k]!]!;
      let byLookback = this.drawdownsOf.get(s);
      if (!byLookback) {
        byLookback = new Map();
        this.drawdownsOf.set(s, byLookback);
      }
      byLookback.set(span, four[k]!);
    }
    return four[0];
  }

  position(i: number): Float64Array | undefined {
    const returns = this.snapshot.returns?.[i];
    if (!returns) return undefined;
    let scaled = this.positions[i];
    if (!scaled) {
      scaled = positionSeries(returns, this.snapshot.weights[i]!);
      this.positions[i] = scaled;
    }
    return scaled;
  }

  positionMoments(i: number): SeriesMoments | undefined {
    const returns = this.snapshot.returns?.[i];
    if (!returns) return undefined;
    let m = this.positionMomentsOf[i];
    if (!m) {
      // Strategy i and the next three (a rule reading one strategy's moments reads them all), in
      // one interleaved pass; w·r scaled on the fly is the position series' every value, so these
      // are the very numbers `moments` gives of either.
      this.fourPositionMoments(i, returns);
      m = this.positionMomentsOf[i]!;
    }
    return m;
  }

  /** Fills positionMomentsOf for i and up to three later strategies with series as long, not yet done. */
  private fourPositionMoments(i: number, returns: Float64Array): void {
    const all = this.snapshot.returns!;
    const group = [i];
    for (let j = i + 1; j < all.length && group.length < 4; j++)
      if (all[j]?.length === returns.length && !this.positionMomentsOf[j]) group.push(j);
    // Fewer than four: the last slots repeat strategy i and are dropped.
    const at = (k: number) => group[k] ?? i;
    const w = this.snapshot.weights;
    const four = momentsOfFour(
      all[at(0)]!,
      all[at(1)]!,
      all[at(2)]!,
      all[at(3)]!,
      w[at(0)]!,
      w[at(1)]!,
      w[at(2)]!,
      w[at(3)]!,
    );
    for (let k = 0; k < group.length; k++) this.positionMomentsOf[group[k]!] = four[k];
  }
}

/** Deepest tail `largestLossesTail` keeps by insertion (the engine's rules ask ⌈n·(1 − α)⌉ ≈ 25 of 1,000). */
const MAX_KEPT_TAIL = 64;

/**
 * `historicalTail(series, confidence, horizon)` in one pass that keeps the k largest losses in
 * ascending order: after the first few dozen, nearly every loss fails one comparison with the
 * smallest kept, where quickselect swaps through the whole series. The same k losses (as values),
 * sorted by the same typed-array sort and summed in the same order, so the same bits; undefined
 * (the library decides, and raises its errors) for a deeper tail, a zero at the tail's edge, a
 * non-finite return or a bad horizon or confidence.
 */
function largestLossesTail(
  series: Float64Array,
  confidence: number,
  horizon: number,
): HistoricalTail | undefined {
  const n = series.length;
  if (!(confidence > 0 && confidence < 1) || !(horizon > 0 && Number.isFinite(horizon)) || n === 0)
    return undefined;
  const k = historicalTailCount(n, confidence);
  if (k > MAX_KEPT_TAIL || k > n) return undefined;
  if (keptScratch.length < k) keptScratch = new Float64Array(MAX_KEPT_TAIL);
  const kept = keptScratch;
  for (let i = 0; i < n; i++) {
    const x = series[i]!;
    if (!Number.isFinite(x)) return undefined;
    const loss = -x;
    if (i < k) {
      // Filling: insert among the first i, ascending.
      let j = i;
      while (j > 0 && kept[j - 1]! > loss) {
        kept[j] = kept[j - 1]!;
        j--;
      }
      kept[j] = loss;
    } else if (loss > kept[0]!) {
      // Drop the smallest kept and insert `loss` in order.
      let j = 0;
      while (j + 1 < k && kept[j + 1]! < loss) {
        kept[j] = kept[j + 1]!;
        j++;
      }
      kept[j] = loss;
    }
  }
  // A zero at the tail's edge may be +0 or −0 among equals, and which one quickselect keeps depends
  // on its partitions: the library decides there (anywhere else the kept values are the same).
  if (kept[0] === 0) return undefined;
  const tail = kept.subarray(0, k).sort();
  let sum = 0;
  for (let i = 0; i < k; i++) sum += tail[i]!;
  const root = Math.sqrt(horizon);
  return { var: tail[0]! * root, es: (sum / k) * root, k };
}

let keptScratch = new Float64Array(0);

/**
 * The losses `historicalTail` selects in place, reused across calls (grown, never shrunk): the tail
 * it returns holds numbers only, never the buffer, and it writes every entry it reads.
 */
let tailScratch = new Float64Array(0);

/** The position series w·rₜ. */
function positionSeries(returns: Float64Array, w: number): Float64Array {
  const scaled = new Float64Array(returns.length);
  for (let t = 0; t < returns.length; t++) scaled[t] = w * returns[t]!;
  return scaled;
}

/**
 * `drawdown` of series[from ..], with one division per peak instead of one per period: between two
 * peaks the peak is fixed, and a correctly rounded 1 − V/peak only grows as V falls, so the deepest
 * point of each stretch gives that stretch's largest drawdown to the last bit.
 */
function troughDrawdown(series: Float64Array, from: number): Drawdown {
  let equity = 1;
  let peak = 1;
  let trough = 1;
  let max = 0;
  for (let t = from; t < series.length; t++) {
    equity *= 1 + series[t]!;
    if (equity < 0) equity = 0;
    if (equity > peak) {
      const dd = 1 - trough / peak;
      if (dd > max) max = dd;
      peak = equity;
      trough = equity;
    } else if (equity < trough) trough = equity;
  }
  const dd = 1 - trough / peak;
  if (dd > max) max = dd;
  return { current: 1 - equity / peak, max };
}

/** The evaluation's shared measures, or the plain ones for a rule measured on its own (tests, tools). */
export function sharedMeasuresOf(input: { snapshot: PreparedSnapshot; shared?: Measures }): Measures {
  return input.shared ?? new PlainMeasures(input.snapshot);
}
