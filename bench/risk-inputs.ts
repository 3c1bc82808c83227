import { mulberry32 } from '#lib/prng.js';
import type { RiskSnapshotInput } from '#lib/risk/index.js';

// The risk bench's inputs, from a seeded PRNG so every run (and every process of the numpy race)
// measures the same work.

/** Daily returns from a one-factor model: rᵢ,ₜ = βᵢ·fₜ + εᵢ,ₜ, vol around 1%. */
export function factorReturns(n: number, t: number, seed: number): Float64Array[] {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const factor = Float64Array.from({ length: t }, () => 0.008 * normal());
  return Array.from({ length: n }, () => {
    const beta = 0.3 + rand();
    const idio = 0.004 + 0.01 * rand();
    return Float64Array.from(factor, (f) => beta * f + idio * normal());
  });
}

/** A snapshot with weights summing to 1, the full covariance map and per-strategy returns. */
export function snapshotOf(n: number, t: number, seed: number): RiskSnapshotInput {
  const returns = factorReturns(n, t, seed);
  const ids = Array.from({ length: n }, (_, i) => `s${String(i).padStart(4, '0')}`);
  const rand = mulberry32(seed + 1);
  const raw = ids.map(() => 0.5 + rand());
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = Object.fromEntries(ids.map((id, i) => [id, raw[i]! / sum]));
  const means = returns.map((r) => r.reduce((a, b) => a + b, 0) / t);
  const covariance: Record<string, number> = {};
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      const ri = returns[i]!;
      const rj = returns[j]!;
      for (let k = 0; k < t; k++) s += (ri[k]! - means[i]!) * (rj[k]! - means[j]!);
      covariance[`${ids[i]},${ids[j]}`] = s / (t - 1);
    }
  const realized_returns = Object.fromEntries(ids.map((id, i) => [id, Array.from(returns[i]!)]));
  return {
    world_id: `bench-${n}x${t}`,
    as_of: '2025-01-01T00:00:00Z',
    weights,
    covariance,
    realized_returns,
  };
}

/** The seed of the N×T inputs. */
export const seedOf = (n: number, t: number) => n * 7919 + t;
