/** Drawdown on the compounded equity curve, as positive fractions of the running peak. */
export interface Drawdown {
  current: number;
  max: number;
}

/**
 * Current and maximum drawdown of V_t = Π(1 + r_s), V₀ = 1: DD_t = 1 − V_t / max_{s≤t} V_s.
 * The starting capital counts as a peak, so a loss on the first period is already a drawdown.
 */
export function drawdown(returns: ArrayLike<number>): Drawdown {
  let equity = 1;
  let peak = 1;
  let max = 0;
  let current = 0;
  for (let t = 0; t < returns.length; t++) {
    equity *= 1 + returns[t]!;
    if (equity < 0) equity = 0;
    if (equity > peak) peak = equity;
    current = peak > 0 ? 1 - equity / peak : 0;
    if (current > max) max = current;
  }
  return { current, max };
}
