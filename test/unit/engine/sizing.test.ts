import { describe, expect, it } from 'vitest';
import type { EvaluationResult } from '#lib/engine/evaluate.js';
import { marketView, snapshot } from '../rules/fixtures.js';
import {
  ES_MULT_99,
  expectNear,
  iso,
  outcome,
  Runner,
  ruleSet,
  sigmaOf,
  signalFor,
  T0_MS,
  Z99,
} from './harness.js';

/**
 * Sizing: the smallest cut that restores the target. Every check re-measures the portfolio on the
 * cut weights w·(1 − rᵢ) by a closed form written here (σ = √(wᵀΣw)), never with the engine's numbers.
 */

const IDS = ['a', 'b', 'c'];
/** A correlated 3×3 covariance (σ = 20%, 15%, 10%; ρ_ab 0.5, ρ_ac 0.2, ρ_bc −0.1). */
const SD = [0.2, 0.15, 0.1];
const RHO = [
  [1, 0.5, 0.2],
  [0.5, 1, -0.1],
  [0.2, -0.1, 1],
];
const COV = RHO.map((row, i) => row.map((r, j) => r * SD[i]! * SD[j]!));
const W = [0.5, 0.3, 0.2];

function covMap(cov: number[][]): Record<string, number> {
  const out: Record<string, number> = {};
  IDS.forEach((a, i) => {
    IDS.forEach((b, j) => {
      if (j >= i) out[`${a},${b}`] = cov[i]![j]!;
    });
  });
  return out;
}
const weightsOf = (w: number[]) => Object.fromEntries(IDS.map((id, i) => [id, w[i]!]));

function evaluateOnce(rule: Record<string, unknown>, w: number[], cov: number[][]): EvaluationResult {
  const run = new Runner(ruleSet([{ id: 'sz', ...rule }]));
  return run.step({ snap: snapshot({ weights: weightsOf(w), covariance: covMap(cov) }), nowMs: T0_MS });
}

/** Published ratio per strategy (0 where no signal), from the enforce channel. */
function ratios(result: EvaluationResult): number[] {
  return IDS.map((id) => signalFor(result, id)?.signal.reduction_ratio ?? 0);
}
const cutWeights = (w: number[], r: number[]) => w.map((x, i) => x * (1 - r[i]!));

describe('uniform sizing restores the target (var_limit / es_limit, normal)', () => {
  const sigma0 = sigmaOf(W, COV);
  const cases = [
    { kind: 'var_limit', horizon: 1, mult: Z99 },
    { kind: 'var_limit', horizon: 10, mult: Z99 },
    { kind: 'es_limit', horizon: 1, mult: ES_MULT_99 },
    { kind: 'es_limit', horizon: 5, mult: ES_MULT_99 },
  ];
  it.each(cases)('$kind, horizon $horizon', ({ kind, horizon, mult }) => {
    // Measure m₀ = k·σ₀·√h; limit at 0.8·m₀, target at 0.7·m₀ ⇒ r = 1 − 0.7 = 0.3 for every strategy.
    const m0 = mult * sigma0 * Math.sqrt(horizon);
    const res = evaluateOnce(
      { kind, method: 'normal', horizon, limit: 0.8 * m0, target: 0.7 * m0, action: { type: 'reduce' } },
      W,
      COV,
    );
    expectNear(outcome(res, 'sz').measure, m0);
    const r = ratios(res);
    for (const x of r) expectNear(x, 0.3);
    const after = mult * sigmaOf(cutWeights(W, r), COV) * Math.sqrt(horizon);
    expect(Math.abs(after - 0.7 * m0)).toBeLessThan(1e-9);
    const sig = signalFor(res, 'a')!;
    expect(sig.signal.action).toBe('reduce');
    expect(sig.signal.metrics.sizing).toBe('uniform');
    expectNear(sig.signal.metrics.measure_after as number, 0.7 * m0);
    expectNear(sig.signal.metrics.target as number, 0.7 * m0);
  });

  it('aims at the limit when the rule has no target', () => {
    const m0 = Z99 * sigma0;
    const res = evaluateOnce({ kind: 'var_limit', limit: 0.75 * m0 }, W, COV);
    const r = ratios(res);
    for (const x of r) expectNear(x, 0.25);
    expect(Math.abs(Z99 * sigmaOf(cutWeights(W, r), COV) - 0.75 * m0)).toBeLessThan(1e-9);
  });

  it('exits every strategy when the target is 0 (r = 1 − 0/m = 1)', () => {
    const m0 = Z99 * sigma0;
    const res = evaluateOnce({ kind: 'var_limit', limit: 0.5 * m0, target: 0 }, W, COV);
    for (const id of IDS)
      expect(signalFor(res, id)?.signal).toMatchObject({ action: 'exit', reduction_ratio: 1 });
  });
});

describe('contribution sizing (var_limit / es_limit normal, sizing: contribution)', () => {
  // Uncorrelated strategies: wᵢ²σᵢ² = a 0.5²·0.04 = 0.01, b 0.3²·0.04 = 0.0036, c 0.2²·0.01 = 0.0004;
  // σ² = 0.014. Components wᵢ(Σw)ᵢ/σ rank a > b > c. Along a single weight σ² is minimised by a full cut.
  const DIAG = [
    [0.04, 0, 0],
    [0, 0.04, 0],
    [0, 0, 0.01],
  ];
  const cases = [
    {
      name: 'the largest contributor alone reaches the target',
      // σ_t² = 0.008: 0.01(1 − c)² + 0.004 = 0.008 ⇒ c = 1 − √0.4.
      targetVar2: 0.008,
      expected: [1 - Math.sqrt(0.4), 0, 0],
    },
    {
      name: 'the largest is cut out, then the next',
      // σ_t² = 0.002: cutting a fully leaves 0.004 > 0.002; then 0.0036(1 − c)² + 0.0004 = 0.002 ⇒ c = 1/3.
      targetVar2: 0.002,
      expected: [1, 1 / 3, 0],
    },
  ];
  describe.each([
    { kind: 'var_limit', mult: Z99 },
    { kind: 'es_limit', mult: ES_MULT_99 },
  ])('$kind', ({ kind, mult }) => {
    it.each(cases)('$name', ({ targetVar2, expected }) => {
      const target = mult * Math.sqrt(targetVar2);
      const limit = mult * Math.sqrt(0.01); // m₀ = k·√0.014 is above it
      const res = evaluateOnce(
        { kind, limit, target, action: { type: 'reduce', sizing: 'contribution' } },
        W,
        DIAG,
      );
      expect(outcome(res, 'sz').verdict).toBe('fired');
      const r = ratios(res);
      r.forEach((x, i) => {
        expectNear(x, expected[i]!);
      });
      // Only the cut strategies get a signal; a full cut is an exit.
      expect(res.signals.map((s) => s.signal.strategy_id)).toEqual(IDS.filter((_, i) => expected[i]! > 0));
      for (const s of res.signals)
        expect(s.signal.action).toBe(s.signal.reduction_ratio === 1 ? 'exit' : 'reduce');
      const after = mult * sigmaOf(cutWeights(W, r), DIAG);
      expect(Math.abs(after - target)).toBeLessThan(1e-9);
      expect(signalFor(res, 'a')?.signal.metrics.sizing).toBe('contribution');
      expectNear(signalFor(res, 'a')?.signal.metrics.measure_after as number, target);
    });
  });

  it('on a correlated book restores the target, cutting the largest component first and minimally', () => {
    // Components by hand: cᵢ = wᵢ(Σw)ᵢ/σ.
    const sigma = sigmaOf(W, COV);
    const sw = COV.map((row) => row.reduce((s, x, j) => s + x * W[j]!, 0));
    const comp = W.map((w, i) => (w * sw[i]!) / sigma);
    const top = comp.indexOf(Math.max(...comp));
    expect(IDS[top]).toBe('a');
    const m0 = Z99 * sigma;
    const target = 0.9 * m0; // a small cut: the top contributor alone suffices
    const res = evaluateOnce(
      { kind: 'var_limit', limit: 0.95 * m0, target, action: { type: 'reduce', sizing: 'contribution' } },
      W,
      COV,
    );
    const r = ratios(res);
    expect(r[top]).toBeGreaterThan(0);
    r.forEach((x, i) => {
      if (i !== top) expect(x).toBe(0);
    });
    const varAfter = (rr: number[]) => Z99 * sigmaOf(cutWeights(W, rr), COV);
    expect(Math.abs(varAfter(r) - target)).toBeLessThan(1e-9);
    // Minimal: a slightly smaller cut of the same strategy leaves the VaR above the target.
    const less = [...r];
    less[top] = r[top]! - 1e-6;
    expect(varAfter(less)).toBeGreaterThan(target);
    // And aimed: the same VaR reduction needs a larger total cut when spread uniformly.
    const uniform = 1 - target / m0;
    expect(r[top]! * W[top]!).toBeLessThan(uniform * W.reduce((s, x) => s + x, 0));
  });

  // Was: a silent uniform cut labelled `uniform_fallback`. The hub's stress totals have no
  // per-strategy contribution, so the schema now refuses the promise instead of breaking it.
  it('is refused for a kind without per-strategy contributions (stress_drawdown)', () => {
    expect(() =>
      ruleSet([
        { id: 'sz', kind: 'stress_drawdown', limit: 0.2, action: { type: 'reduce', sizing: 'contribution' } },
      ]),
    ).toThrow(/rule 'sz': stress_drawdown: .*no per-strategy contribution/);
  });
});

describe('exit and reduce_fixed actions', () => {
  const m0 = Z99 * sigmaOf(W, COV);
  it('exit: ratio 1 and action exit for every strategy', () => {
    const res = evaluateOnce({ kind: 'var_limit', limit: 0.5 * m0, action: { type: 'exit' } }, W, COV);
    expect(res.signals).toHaveLength(3);
    for (const id of IDS)
      expect(signalFor(res, id)?.signal).toMatchObject({ action: 'exit', reduction_ratio: 1 });
    expect(signalFor(res, 'a')?.signal.metrics.sizing).toBe('exit');
  });

  it.each([0.1, 0.25, 0.6])(
    'reduce_fixed %s: that ratio for every strategy, measure after = m·(1 − ratio)',
    (ratio) => {
      const res = evaluateOnce(
        { kind: 'var_limit', limit: 0.5 * m0, action: { type: 'reduce_fixed', ratio } },
        W,
        COV,
      );
      for (const id of IDS)
        expect(signalFor(res, id)?.signal).toMatchObject({ action: 'reduce', reduction_ratio: ratio });
      expect(signalFor(res, 'a')?.signal.metrics.sizing).toBe('fixed');
      expectNear(signalFor(res, 'a')?.signal.metrics.measure_after as number, m0 * (1 - ratio));
    },
  );

  it('reduce_fixed 1 is an exit', () => {
    const res = evaluateOnce(
      { kind: 'var_limit', limit: 0.5 * m0, action: { type: 'reduce_fixed', ratio: 1 } },
      W,
      COV,
    );
    for (const id of IDS)
      expect(signalFor(res, id)?.signal).toMatchObject({ action: 'exit', reduction_ratio: 1 });
  });
});

describe('exact cuts for concentration measures', () => {
  const run = (rule: Record<string, unknown>, weights: Record<string, number>) =>
    new Runner(ruleSet([{ id: 'sz', kind: 'concentration', ...rule }])).step({
      snap: snapshot({ weights }),
      nowMs: T0_MS,
    });

  it('herfindahl: uniform r = 1 − √(target/H) brings Σw² to the target', () => {
    // H = 0.36 + 0.09 + 0.01 = 0.46.
    const w = { a: 0.6, b: 0.3, c: 0.1 };
    const res = run({ measure: 'herfindahl', limit: 0.4, target: 0.3 }, w);
    const expected = 1 - Math.sqrt(0.3 / 0.46);
    const after = Object.entries(w).reduce((s, [id, x]) => {
      const r = signalFor(res, id)!.signal.reduction_ratio;
      expectNear(r, expected);
      return s + (x * (1 - r)) ** 2;
    }, 0);
    expect(Math.abs(after - 0.3)).toBeLessThan(1e-9);
    expect(signalFor(res, 'a')?.signal.metrics.sizing).toBe('exact');
  });

  it('max_weight: only strategies above the target, each cut to it', () => {
    const res = run({ measure: 'max_weight', limit: 0.3 }, { a: 0.5, b: 0.35, c: 0.15 });
    expectNear(signalFor(res, 'a')?.signal.reduction_ratio, 1 - 0.3 / 0.5); // 0.4
    expectNear(signalFor(res, 'b')?.signal.reduction_ratio, 1 - 0.3 / 0.35);
    expect(signalFor(res, 'c')).toBeUndefined();
    expect(Math.abs(0.5 * (1 - signalFor(res, 'a')!.signal.reduction_ratio) - 0.3)).toBeLessThan(1e-9);
    expect(Math.abs(0.35 * (1 - signalFor(res, 'b')!.signal.reduction_ratio) - 0.3)).toBeLessThan(1e-9);
  });

  it('gross_leverage: uniform r = 1 − target/Σ|w| (shorts included)', () => {
    // Σ|w| = 0.8 + 0.5 + 0.3 = 1.6; target 1.2 ⇒ r = 0.25.
    const w = { a: 0.8, b: 0.5, c: -0.3 };
    const res = run({ measure: 'gross_leverage', limit: 1.2 }, w);
    const after = Object.entries(w).reduce((s, [id, x]) => {
      const r = signalFor(res, id)!.signal.reduction_ratio;
      expectNear(r, 0.25);
      return s + Math.abs(x * (1 - r));
    }, 0);
    expect(Math.abs(after - 1.2)).toBeLessThan(1e-9);
  });
});

describe('measures a cut cannot move', () => {
  // Was: "reduce 33.3%" claiming to bring VIX back to 24. No cut moves VIX, so a sized reduce is
  // refused; a fixed cut is published as a de-risking step with no claimed measure after.
  it('vix_level: a sized reduce is refused; reduce_fixed publishes its ratio with no measure after', () => {
    const vix = { id: 'sz', kind: 'volatility_regime', measure: 'vix_level', limit: 30, target: 24 };
    expect(() => ruleSet([vix])).toThrow(/rule 'sz': volatility_regime vix_level: no position cut moves/);
    const res = new Runner(ruleSet([{ ...vix, action: { type: 'reduce_fixed', ratio: 0.3 } }])).step({
      snap: snapshot({ weights: { a: 0.5, b: 0.5 } }),
      market: [marketView('global', iso(T0_MS - 1000), { vix: 36 })],
      nowMs: T0_MS,
    });
    for (const id of ['a', 'b']) expect(signalFor(res, id)?.signal.reduction_ratio).toBe(0.3);
    expect(signalFor(res, 'a')?.signal.metrics).toMatchObject({ sizing: 'fixed', measure_after: null });
    expect(String(signalFor(res, 'a')?.signal.metrics.sizing_note)).toMatch(/no position cut moves/);
  });

  // Was: an exit on VIX 36 published `measure_after: 0`, as if leaving the positions took VIX to 0.
  it('vix_level: an exit claims no measure after; a VaR exit still claims 0', () => {
    const vix = {
      id: 'vx',
      kind: 'volatility_regime',
      measure: 'vix_level',
      limit: 30,
      action: { type: 'exit' },
    };
    const res = new Runner(ruleSet([vix])).step({
      snap: snapshot({ weights: { a: 0.5, b: 0.5 } }),
      market: [marketView('global', iso(T0_MS - 1000), { vix: 36 })],
      nowMs: T0_MS,
    });
    expect(signalFor(res, 'a')?.signal).toMatchObject({ action: 'exit', reduction_ratio: 1 });
    expect(signalFor(res, 'a')?.signal.metrics).toMatchObject({
      sizing: 'exit',
      measure: 36,
      measure_after: null,
    });
    expect(outcome(res, 'vx').proposed).toEqual({ action: 'exit', ratio: 1, sizing: 'exit' });

    const varExit = {
      id: 'vr',
      kind: 'var_limit',
      method: 'normal',
      confidence: 0.99,
      horizon: 1,
      limit: 0.01,
      action: { type: 'exit' },
    };
    const out = evaluateOnce(varExit, W, COV);
    expect(signalFor(out, 'a')?.signal.metrics).toMatchObject({ sizing: 'exit', measure_after: 0 });
  });
});
