/**
 * The demo world's market: a seeded three-factor model of five strategies' daily returns, their EWMA
 * covariance and the desk's drifting weights, with the story's volatility shock and rebalance.
 */
import { mulberry32 } from '#lib/prng.js';

export const STRATEGIES = ['trend_es', 'carry_fx', 'meanrev_eq', 'vol_sell_spx', 'macro_rates'] as const;

/** Simulated history before the first snapshot: 60 days of realized returns plus EWMA burn-in. */
export const WARMUP_DAYS = 120;
export const RETURNS_WINDOW = 60;
/** First snapshot day (a Monday); 35 business days = 7 weeks, 2025-02-24 … 2025-04-11, no US holidays. */
export const SNAPSHOT_DAYS = 35;
const EWMA_LAMBDA = 0.94;

// Story calendar, as indices into the snapshot days (0 = Mon 2025-02-24).
/** Volatility shock: Mon–Wed of week 3 (2025-03-10 … 03-12). */
const SHOCK_DAYS = new Set([10, 11, 12]);
const SHOCK_LAST_DAY = 12;
/** The desk's Monday rebalance after the shock (2025-03-17). */
const REBALANCE_DAY = 15;

// Factor model: equity, rates, FX carry. Loadings and vols are daily and plausible for the strategy names.
const FACTOR_VOL = [0.0136, 0.0072, 0.008];
const LOADINGS: readonly (readonly number[])[] = [
  [0.35, 0.3, 0.0], // trend_es: some equity beta, rates trend exposure
  [0.25, 0.0, 0.9], // carry_fx: FX carry, risk-on beta
  [0.55, 0.0, 0.0], // meanrev_eq: equity market-neutral-ish, residual beta
  [0.85, 0.0, 0.15], // vol_sell_spx: short vol is long equity in a selloff
  [0.05, 0.95, 0.0], // macro_rates
];
const IDIO_VOL = [0.012, 0.0064, 0.0104, 0.0088, 0.0056];
const TARGET_WEIGHTS = [0.24, 0.2, 0.18, 0.16, 0.22];
/** After the shock the desk rotates out of short vol into rates and carry (a slow, partial move). */
const DERISKED_WEIGHTS = [0.22, 0.22, 0.12, 0.04, 0.4];

/** Standard normals by Box–Muller, both outputs used so the draw sequence is simple to reason about. */
function normalSource(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log stays finite
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface SimulatedDay {
  returns: number[];
  ewma: number[][];
  weights: number[];
}

/** Simulates WARMUP_DAYS + SNAPSHOT_DAYS of factor-model returns, EWMA covariance and drifting weights. */
export function simulate(seed: number): SimulatedDay[] {
  const normal = normalSource(mulberry32(seed));
  // Start the EWMA at the model's calm covariance; the burn-in washes the choice out anyway.
  let ewma: number[][] = STRATEGIES.map((_, i) =>
    STRATEGIES.map((_, j) => {
      let c = i === j ? (IDIO_VOL[i] ?? 0) ** 2 : 0;
      for (let k = 0; k < FACTOR_VOL.length; k++) {
        c += (LOADINGS[i]?.[k] ?? 0) * (LOADINGS[j]?.[k] ?? 0) * (FACTOR_VOL[k] ?? 0) ** 2;
      }
      return c;
    }),
  );
  let weights = [...TARGET_WEIGHTS];
  const days: SimulatedDay[] = [];
  for (let t = 0; t < WARMUP_DAYS + SNAPSHOT_DAYS; t++) {
    const d = t - WARMUP_DAYS; // snapshot-day index; negative during warm-up
    const shock = SHOCK_DAYS.has(d);
    // The shock is an equity selloff with vol tripling; the days after, vol is still a little elevated.
    const eqMult = shock ? 3.4 : d > SHOCK_LAST_DAY && d <= SHOCK_LAST_DAY + 4 ? 1.3 : 1;
    // Only equity-linked names see their idiosyncratic vol jump; rates and FX carry stay as they were.
    const idioMult = (i: number): number => (shock && (LOADINGS[i]?.[0] ?? 0) > 0.2 ? 1.6 : 1);
    const eqDrift = shock ? -1.6 * (FACTOR_VOL[0] ?? 0) : 0;
    const f = FACTOR_VOL.map((vol, k) => vol * (k === 0 ? eqMult : 1) * normal() + (k === 0 ? eqDrift : 0));
    const returns = STRATEGIES.map((_, i) => {
      let r = (IDIO_VOL[i] ?? 0) * idioMult(i) * normal();
      for (let k = 0; k < f.length; k++) r += (LOADINGS[i]?.[k] ?? 0) * (f[k] ?? 0);
      return r;
    });
    ewma = ewma.map((row, i) =>
      row.map((c, j) => EWMA_LAMBDA * c + (1 - EWMA_LAMBDA) * (returns[i] ?? 0) * (returns[j] ?? 0)),
    );
    // Weights drift with each strategy's P&L. Once the shock is over the desk eases out of short vol,
    // and its Monday rebalance completes the rotation (that step is what brings VaR back under).
    const target = d > SHOCK_LAST_DAY ? DERISKED_WEIGHTS : TARGET_WEIGHTS;
    const pull = d === REBALANCE_DAY ? 1 : d > SHOCK_LAST_DAY && d < REBALANCE_DAY ? 0.3 : 0.05;
    const drifted = weights.map((w, i) => w * (1 + (returns[i] ?? 0)));
    const total = drifted.reduce((a, b) => a + b, 0);
    weights = drifted.map((w, i) => (1 - pull) * (w / total) + pull * (target[i] ?? 0));
    days.push({ returns, ewma, weights });
  }
  return days;
}
