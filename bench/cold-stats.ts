/**
 * The arithmetic of the cold-start benches (bench/cold-invocation.ts): order statistics over fresh
 * processes, the order the arms run in, and the before/after ratio. Pure: no clock, no processes.
 */

/** Median, p90 and p99 of a sample (nearest rank), and its size. */
export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
}

/**
 * The nearest-rank quantile: the smallest sample value with at least `q` of the sample at or below it
 * (q = 0.5 of an even-sized sample is the lower middle value, so a median is always a measured run).
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile: q must be in (0, 1], got ${q}`);
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
  };
}

/**
 * The order `rounds` rounds of `arms` run in: every round runs each arm once, and the arm that starts
 * a round rotates, so no arm always runs right after another (a process that runs just after a heavy
 * one meets a warmer page cache and a busier CPU), and load from other processes falls on every arm alike.
 */
export function alternationOrder<T>(arms: readonly T[], rounds: number): { round: number; arm: T }[] {
  const order: { round: number; arm: T }[] = [];
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < arms.length; k++) order.push({ round, arm: arms[(round + k) % arms.length]! });
  return order;
}

/** Before/after of one figure measured alternating: the ratio of the medians and the paired view. */
export interface Comparison {
  before: Summary;
  after: Summary;
  /** after median / before median: below 1 is faster. */
  ratio: number;
  /** Median of after_i / before_i over the rounds (pairs measured next to each other). */
  pairedRatio: number;
  /** Rounds in which after was lower than before, of all rounds. */
  afterLower: number;
}

/** Compares two samples taken alternating, `before[i]` and `after[i]` in the same round. */
export function compare(before: readonly number[], after: readonly number[]): Comparison {
  if (before.length !== after.length || before.length === 0)
    throw new RangeError(
      `compare needs paired samples of equal, non-zero length (got ${before.length} and ${after.length})`,
    );
  const b = summarize(before);
  const a = summarize(after);
  const ratios = after.map((x, i) => x / before[i]!);
  return {
    before: b,
    after: a,
    ratio: a.median / b.median,
    pairedRatio: quantile(ratios, 0.5),
    afterLower: after.filter((x, i) => x < before[i]!).length,
  };
}
