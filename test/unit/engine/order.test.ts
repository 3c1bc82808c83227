import { describe, expect, it } from 'vitest';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import type { EvaluationResult } from '#lib/engine/evaluate.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import { expectNear, iso, Runner, ruleSet, STEP_MS, sigmaOf, T0_MS, Z99 } from './harness.js';

/**
 * Results must not depend on the order of strategies in the snapshot's maps (weights, covariance
 * keys in either order, returns, per-strategy stress). Snapshots go through the real preparation
 * (`prepareSnapshot`), which is where an order dependence would enter.
 */

const IDS = ['gamma', 'alpha', 'delta', 'beta'];
const W: Record<string, number> = { gamma: 0.35, alpha: 0.3, delta: 0.2, beta: 0.15 };
const SD: Record<string, number> = { gamma: 0.25, alpha: 0.2, delta: 0.15, beta: 0.1 };
const RHO = 0.3;
const cov = (a: string, b: string) => (a === b ? SD[a]! ** 2 : RHO * SD[a]! * SD[b]!);
/** A deterministic return series per strategy (scaled sines), 40 periods, latest loss-heavy. */
const returns = (id: string) =>
  Array.from(
    { length: 40 },
    (_, t) => SD[id]! * 0.1 * Math.sin(t * (1 + IDS.indexOf(id)) * 0.7) - (t > 36 ? 0.02 : 0),
  );

function rawSnapshot(order: string[], reverseKeys: boolean, loss: number, asOfMs: number) {
  const weights: Record<string, number> = {};
  const covariance: Record<string, number> = {};
  const realized: Record<string, number[]> = {};
  const stress: Record<string, Record<string, Record<string, number>>> = {};
  for (const a of order) {
    weights[a] = W[a]!;
    realized[a] = returns(a);
    stress[a] = { crash: { max_drawdown: loss * (1 + IDS.indexOf(a) / 10) } };
    for (const b of order) {
      if (order.indexOf(b) < order.indexOf(a)) continue;
      covariance[reverseKeys ? `${b},${a}` : `${a},${b}`] = cov(a, b);
    }
  }
  return prepareSnapshot(
    SnapshotDataSchema.parse({
      world_id: 'w1',
      as_of: iso(asOfMs),
      version: `v${asOfMs}`,
      weights,
      covariance,
      realized_returns: realized,
      stress,
    }),
  );
}

const rules = ruleSet([
  { id: 'var_u', kind: 'var_limit', limit: 0.1, clear: 0.08 },
  {
    id: 'var_c',
    kind: 'var_limit',
    limit: 0.1,
    target: 0.09,
    action: { type: 'reduce', sizing: 'contribution' },
  },
  { id: 'es_hist', kind: 'es_limit', method: 'historical', confidence: 0.95, limit: 0.001, priority: 7 },
  { id: 'st_strat', kind: 'stress_drawdown', scope: 'strategy', limit: 0.2, clear: 0.1 },
  { id: 'conc', kind: 'concentration', measure: 'max_weight', limit: 0.3, action: { type: 'reduce' } },
  { id: 'dd', kind: 'drawdown', scope: 'strategy', limit: 0.01, action: { type: 'exit' } },
]);

function runOrder(order: string[], reverseKeys: boolean): EvaluationResult[] {
  const run = new Runner(rules);
  // Stress dial: breach (0.25), between (0.15), clear (0.05).
  return [0.25, 0.25, 0.15, 0.05].map((loss, k) => {
    const t = T0_MS + k * STEP_MS;
    return run.step({ snap: rawSnapshot(order, reverseKeys, loss, t), nowMs: t });
  });
}

describe('order independence', () => {
  const reference = runOrder(['alpha', 'beta', 'delta', 'gamma'], false);

  it('the reference run fires with the closed-form world VaR (so the comparison is not vacuous)', () => {
    const ids = ['alpha', 'beta', 'delta', 'gamma'];
    const sigma = sigmaOf(
      ids.map((i) => W[i]!),
      ids.map((a) => ids.map((b) => cov(a, b))),
    );
    const o = reference[0]!.outcomes.find((x) => x.rule_id === 'var_u')!;
    expectNear(o.measure, Z99 * sigma);
    expect(o.verdict).toBe('fired');
    expect(reference[0]!.signals.length).toBeGreaterThan(0);
    // The per-strategy stress episodes clear at the last step (their holds are covered by the world rules).
    expect(reference[3]!.outcomes.filter((x) => x.verdict === 'cleared').map((x) => x.rule_id)).toContain(
      'st_strat',
    );
  });

  it.each([
    { name: 'reversed', order: ['gamma', 'delta', 'beta', 'alpha'], reverseKeys: false },
    { name: 'scrambled', order: ['delta', 'alpha', 'gamma', 'beta'], reverseKeys: false },
    {
      name: 'scrambled, covariance keys as "b,a"',
      order: ['beta', 'gamma', 'alpha', 'delta'],
      reverseKeys: true,
    },
  ])('gives identical outcomes, episodes and signals with the maps $name', ({ order, reverseKeys }) => {
    const other = runOrder(order, reverseKeys);
    expect(other).toEqual(reference);
  });
});
