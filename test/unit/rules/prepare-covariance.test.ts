import { describe, expect, it } from 'vitest';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import { checkCovariance } from '#lib/risk/index.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';

// The engine's preparation checks a covariance of any size for positive semi-definiteness (no
// psdCheckMaxN cap on this path): an indefinite one is reported and repaired, a singular PSD one
// (fewer returns than strategies) passes untouched.

function world(n: number, entry: (i: number, j: number) => number): SnapshotData {
  const ids = Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const covariance: Record<string, number> = {};
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) covariance[`${ids[i]},${ids[j]}`] = entry(i, j);
  return {
    world_id: 'w',
    as_of: '2025-01-01T00:00:00Z',
    version: 'v1',
    weights: Object.fromEntries(ids.map((id) => [id, 1 / n])),
    covariance,
  } as SnapshotData;
}

describe('prepareSnapshot: covariance PSD check at N above the report cap', () => {
  it('reports and repairs an indefinite 100×100 covariance whose correlations all lie in [−1, 1]', () => {
    // Equicorrelation ρ = −0.05 at N = 100: smallest eigenvalue 1 + 99ρ = −3.95, no 2×2 minor fails.
    const prepared = prepareSnapshot(world(100, (i, j) => (i === j ? 1 : -0.05)));
    expect(prepared.warnings).toEqual([
      'covariance: covariance is not positive semi-definite (smallest eigenvalue -3.95); repaired by eigenvalue clipping',
    ]);
    expect(checkCovariance(prepared.covariance!, 100)).toEqual([]);
  });

  it('passes a singular 120×120 covariance of 40 one-factor returns unchanged', () => {
    const n = 120;
    const t = 40;
    // Deterministic returns: a common factor and an idiosyncratic term per strategy (rank ≤ 40).
    const r = (i: number, k: number) =>
      (0.5 + (i % 7) / 7) * Math.sin(k * 1.3) + 0.3 * Math.sin(i * 2.1 + k * k * 0.7);
    const cov = (i: number, j: number) => {
      let s = 0;
      for (let k = 0; k < t; k++) s += r(i, k) * r(j, k);
      return s / t;
    };
    const prepared = prepareSnapshot(world(n, cov));
    expect(prepared.warnings).toEqual([]);
    expect(prepared.covariance![5 * n + 7]).toBe(cov(5, 7));
  });
});
