/** Relative quoted spread (ask − bid)/mid; negative for a crossed quote, which the caller may want to flag. */
export function relativeSpread(bid: number, ask: number): number {
  if (!(bid > 0 && ask > 0 && Number.isFinite(bid) && Number.isFinite(ask)))
    throw new RangeError(`bid and ask must be positive prices, got ${bid} / ${ask}`);
  return (ask - bid) / ((ask + bid) / 2);
}

/**
 * Amihud (2002) illiquidity: the mean of |rₜ| / dollar volumeₜ over periods with positive volume
 * (unscaled; multiply by 10⁶ for the usual "per million" figure). NaN when no period traded.
 */
export function amihud(returns: ArrayLike<number>, dollarVolumes: ArrayLike<number>): number {
  if (returns.length !== dollarVolumes.length)
    throw new RangeError(`${returns.length} returns for ${dollarVolumes.length} dollar volumes`);
  let sum = 0;
  let days = 0;
  for (let t = 0; t < returns.length; t++) {
    const dv = dollarVolumes[t]!;
    if (dv > 0) {
      sum += Math.abs(returns[t]!) / dv;
      days++;
    }
  }
  return days > 0 ? sum / days : Number.NaN;
}

/** |position| / average daily volume (both in the same currency units). */
export function advUtilization(positionValue: number, averageDailyVolume: number): number {
  return averageDailyVolume > 0 ? Math.abs(positionValue) / averageDailyVolume : Number.POSITIVE_INFINITY;
}

function tailMean(series: ArrayLike<number>, window: number): number {
  let s = 0;
  for (let t = series.length - window; t < series.length; t++) s += series[t]!;
  return s / window;
}

/**
 * Deterioration ratio: mean of the last `shortWindow` values over the mean of the last `longWindow`
 * (> 1 means the measure, e.g. spread or Amihud, has worsened recently). NaN when the long mean is 0.
 */
export function deterioration(series: ArrayLike<number>, shortWindow: number, longWindow: number): number {
  if (
    !(
      Number.isInteger(shortWindow) &&
      shortWindow >= 1 &&
      Number.isInteger(longWindow) &&
      longWindow >= shortWindow
    )
  )
    throw new RangeError(`need integer windows 1 ≤ short ≤ long, got ${shortWindow} and ${longWindow}`);
  if (series.length < longWindow)
    throw new RangeError(`series has ${series.length} values, long window ${longWindow}`);
  const longMean = tailMean(series, longWindow);
  return longMean === 0 ? Number.NaN : tailMean(series, shortWindow) / longMean;
}
