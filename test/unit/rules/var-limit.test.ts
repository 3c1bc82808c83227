import { describe, expect, it } from 'vitest';
import { loadAllRuleKinds } from '#lib/rules/kinds/index.js';
import { esLimit, varLimit } from '#lib/rules/kinds/var-limit.js';
import { input, only, rule, snapshot } from './fixtures.js';

// The series methods (historical, Cornish–Fisher, Student-t) are loaded on demand, as the engine does.
await loadAllRuleKinds();

// Closed-form constants, independent of the library: z₀.₉₉ = Φ⁻¹(0.99), φ(z) the standard normal density.
const Z99 = 2.3263478740408408;
const PHI = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
const ES_MULT_99 = PHI(Z99) / 0.01;

// Hull OFOD 11th ed. §22.3 (reference V1): $10m MSFT (σ 2%), $5m AT&T (σ 1%), ρ 0.3, on $15m.
const hull = snapshot({
  weights: { msft: 2 / 3, att: 1 / 3 },
  covariance: { 'msft,msft': 0.0004, 'att,att': 0.0001, 'msft,att': 0.00006 },
});
const CAPITAL = 15_000_000;

// 100 returns −5.0% … +4.9% in steps of 0.1%, in a scrambled order (37 is coprime with 100).
const ladder = Array.from({ length: 100 }, (_, k) => ((k * 37) % 100) - 50).map((x) => x / 1000);

function sigmaOf(w: number[], cov: number[][]): number {
  let v = 0;
  for (let i = 0; i < w.length; i++) for (let j = 0; j < w.length; j++) v += w[i]! * cov[i]![j]! * w[j]!;
  return Math.sqrt(v);
}

describe('var_limit / es_limit, normal', () => {
  it('reproduces Hull’s two-stock 10-day 99% VaR and ES (V1, ±$100)', () => {
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.2, horizon: 10 }), input(hull)));
    const e = only(esLimit.measure(rule({ kind: 'es_limit', limit: 0.2, horizon: 10 }), input(hull)));
    expect(Math.abs(v.value! * CAPITAL - 1_620_100)).toBeLessThan(100);
    expect(Math.abs(e.value! * CAPITAL - 1_856_100)).toBeLessThan(100);
    expect(v.scopeKey).toBe('world');
    expect(v.strategies).toEqual(['att', 'msft']);
    // 1-day σ_P $220,227 (V1).
    expect(Math.abs((v.evidence.sigma as number) * CAPITAL - 220_227)).toBeLessThan(1);
    expect(v.evidence).toMatchObject({
      method: 'normal',
      confidence: 0.99,
      horizon: 10,
      covariance_source: 'snapshot',
    });
  });

  it('reports Euler components that sum to the VaR', () => {
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.2, horizon: 10 }), input(hull)));
    const components = v.evidence.components as Record<string, number>;
    expect(Object.keys(components).sort()).toEqual(['att', 'msft']);
    expect(components.att! + components.msft!).toBeCloseTo(v.value!, 10);
  });

  it('measures each strategy’s stand-alone VaR in strategy scope (V1 per stock)', () => {
    const m = varLimit.measure(
      rule({ kind: 'var_limit', limit: 0.2, horizon: 10, scope: 'strategy' }),
      input(hull),
    );
    const byId = Object.fromEntries(m.map((x) => [x.scopeKey, x]));
    expect(Math.abs(byId.msft!.value! * CAPITAL - 1_471_300)).toBeLessThan(100);
    expect(Math.abs(byId.att!.value! * CAPITAL - 367_800)).toBeLessThan(100);
    expect(byId.msft!.strategies).toEqual(['msft']);
  });

  it('honours confidence: 95% VaR is z₀.₉₅·σ_P', () => {
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.2, confidence: 0.95 }), input(hull)));
    const sigma = sigmaOf(
      [2 / 3, 1 / 3],
      [
        [0.0004, 0.00006],
        [0.00006, 0.0001],
      ],
    );
    expect(v.value).toBeCloseTo(1.6448536269514722 * sigma, 12);
  });

  it('sizes by contribution to the target (default: the limit) and the cut restores it to 1e-9', () => {
    const r = rule({
      kind: 'var_limit',
      limit: 0.08,
      horizon: 10,
      action: { type: 'reduce', sizing: 'contribution' },
    });
    const v = only(varLimit.measure(r, input(hull)));
    const sizing = v.contributionSizing!;
    expect(sizing.after).toBeCloseTo(0.08, 9);
    // Re-apply the ratios by hand (ids sorted: att, msft).
    const w = [(1 / 3) * (1 - (sizing.ratios.att ?? 0)), (2 / 3) * (1 - (sizing.ratios.msft ?? 0))];
    const after =
      Z99 *
      Math.sqrt(10) *
      sigmaOf(w, [
        [0.0001, 0.00006],
        [0.00006, 0.0004],
      ]);
    expect(Math.abs(after - 0.08)).toBeLessThan(1e-9);
    // MSFT carries most of the risk, so it is cut first.
    expect(sizing.ratios.msft).toBeGreaterThan(0);
    expect(v.evidence.contribution_cut_reached).toBe(true);
  });

  it('sizes an ES rule to its explicit target', () => {
    const r = rule({
      kind: 'es_limit',
      limit: 0.1,
      target: 0.09,
      horizon: 10,
      action: { type: 'reduce', sizing: 'contribution' },
    });
    const e = only(esLimit.measure(r, input(hull)));
    const sizing = e.contributionSizing!;
    const w = [(1 / 3) * (1 - (sizing.ratios.att ?? 0)), (2 / 3) * (1 - (sizing.ratios.msft ?? 0))];
    const after =
      ES_MULT_99 *
      Math.sqrt(10) *
      sigmaOf(w, [
        [0.0001, 0.00006],
        [0.00006, 0.0004],
      ]);
    expect(Math.abs(after - 0.09)).toBeLessThan(1e-9);
    expect(sizing.after).toBeCloseTo(0.09, 9);
  });

  it('leaves sizing to the engine (uniform) unless the rule asks for contribution', () => {
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.08, horizon: 10 }), input(hull)));
    expect(v.contributionSizing).toBeUndefined();
    expect(varLimit.homogeneous).toBe(true);
    expect(esLimit.homogeneous).toBe(true);
  });

  it('is unavailable without a covariance, with the reason', () => {
    const snap = snapshot({ weights: { a: 1 } });
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.05 }), input(snap)));
    expect(v.value).toBeNull();
    expect(v.unavailable).toMatch(/covariance/);
    const s = varLimit.measure(rule({ kind: 'var_limit', limit: 0.05, scope: 'strategy' }), input(snap));
    expect(s[0]!.value).toBeNull();
  });

  it('is unavailable when the covariance is not positive semi-definite', () => {
    const snap = snapshot({
      weights: { a: 0.5, b: 0.5 },
      covariance: { 'a,a': 0.0001, 'b,b': 0.0001, 'a,b': -0.001 },
    });
    const v = only(varLimit.measure(rule({ kind: 'var_limit', limit: 0.05 }), input(snap)));
    expect(v.value).toBeNull();
    expect(v.unavailable).toMatch(/positive semi-definite/);
  });
});

describe('var_limit / es_limit, historical', () => {
  const snap = snapshot({ weights: { a: 1 }, returns: { a: ladder } });

  it('takes the k-th largest loss and the mean of the k largest, k = ⌈n(1−α)⌉', () => {
    // n = 100, α = 0.95 → k = 5: losses 5.0, 4.9, 4.8, 4.7, 4.6% → VaR 4.6%, ES 4.8%.
    const r = { method: 'historical', confidence: 0.95, limit: 0.5 };
    const v = only(varLimit.measure(rule({ kind: 'var_limit', ...r }), input(snap)));
    const e = only(esLimit.measure(rule({ kind: 'es_limit', ...r }), input(snap)));
    expect(v.value).toBeCloseTo(0.046, 12);
    expect(e.value).toBeCloseTo(0.048, 12);
    expect(v.evidence).toMatchObject({ method: 'historical', observations: 100, tail_count: 5 });
  });

  it('scales by √h: horizon 4 doubles it', () => {
    const v = only(
      varLimit.measure(
        rule({ kind: 'var_limit', method: 'historical', confidence: 0.99, horizon: 4, limit: 0.5 }),
        input(snap),
      ),
    );
    // k = 1 at 99%: the largest loss, 5%.
    expect(v.value).toBeCloseTo(0.1, 12);
  });

  it('uses wᵢ·rᵢ,t per strategy in strategy scope', () => {
    const two = snapshot({ weights: { a: 0.6, b: 0.4 }, returns: { a: ladder, b: ladder.map(() => 0) } });
    const m = varLimit.measure(
      rule({ kind: 'var_limit', method: 'historical', confidence: 0.95, limit: 0.5, scope: 'strategy' }),
      input(two),
    );
    expect(m.find((x) => x.scopeKey === 'a')!.value).toBeCloseTo(0.6 * 0.046, 12);
    expect(m.find((x) => x.scopeKey === 'b')!.value).toBeCloseTo(0, 12);
  });

  it('is unavailable with fewer returns than one tail observation needs', () => {
    const short = snapshot({ weights: { a: 1 }, returns: { a: ladder.slice(0, 50) } });
    const v = only(
      varLimit.measure(rule({ kind: 'var_limit', method: 'historical', limit: 0.05 }), input(short)),
    );
    expect(v.value).toBeNull();
    expect(v.unavailable).toMatch(/at least 100 returns, has 50/);
  });

  it('is unavailable without realized returns', () => {
    const none = snapshot({ weights: { a: 1 }, covariance: { 'a,a': 0.0001 } });
    for (const method of ['historical', 'student_t', 'cornish_fisher'] as const) {
      const v = only(varLimit.measure(rule({ kind: 'var_limit', method, limit: 0.05 }), input(none)));
      expect(v.value).toBeNull();
      expect(v.unavailable).toMatch(/realized returns/);
    }
  });
});

// A left-skewed, fat-tailed series: Laplace quantiles (scale 1%) at (k + ½)/100, losses stretched by
// 1.3 (skewness ≈ −0.48, excess kurtosis ≈ 1.88: inside the expansion's monotone domain), scrambled.
const skewed = Array.from({ length: 100 }, (_, j) => {
  const u = (((j * 37) % 100) + 0.5) / 100;
  const x = -0.01 * Math.sign(u - 0.5) * Math.log(1 - 2 * Math.abs(u - 0.5));
  return x < 0 ? x * 1.3 : x;
});

/** Moments by hand: n − 1 standard deviation, moment skewness and excess kurtosis. */
function handMoments(x: number[]) {
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  const c = (p: number) => x.reduce((a, b) => a + (b - m) ** p, 0) / n;
  return { std: Math.sqrt((c(2) * n) / (n - 1)), skew: c(3) / c(2) ** 1.5, kurt: c(4) / c(2) ** 2 - 3 };
}

describe('var_limit / es_limit, Cornish–Fisher', () => {
  it('equals −z_cf·σ·√h with z_cf from the BRIEF §6 expansion (zero mean)', () => {
    const snap = snapshot({ weights: { a: 1 }, returns: { a: skewed } });
    const v = only(
      varLimit.measure(
        rule({ kind: 'var_limit', method: 'cornish_fisher', horizon: 2, limit: 0.5 }),
        input(snap),
      ),
    );
    const { std, skew: S, kurt: K } = handMoments(skewed);
    const z = -Z99;
    const zcf = z + ((z * z - 1) * S) / 6 + ((z ** 3 - 3 * z) * K) / 24 - ((2 * z ** 3 - 5 * z) * S * S) / 36;
    expect(v.value).toBeCloseTo(-zcf * std * Math.sqrt(2), 12);
    expect(v.evidence.skewness).toBeCloseTo(S, 9);
    const e = only(
      esLimit.measure(
        rule({ kind: 'es_limit', method: 'cornish_fisher', horizon: 2, limit: 0.5 }),
        input(snap),
      ),
    );
    expect(e.value!).toBeGreaterThan(v.value!);
  });

  it('is unavailable where the expansion is not monotonic (one extreme outlier)', () => {
    const outlier = Array.from({ length: 20 }, (_, i) => (i === 19 ? -0.3 : 0.001 * (i % 3)));
    const snap = snapshot({ weights: { a: 1 }, returns: { a: outlier } });
    const v = only(
      varLimit.measure(rule({ kind: 'var_limit', method: 'cornish_fisher', limit: 0.05 }), input(snap)),
    );
    expect(v.value).toBeNull();
    expect(v.unavailable).toMatch(/cornish_fisher.*monoton/i);
  });

  it('is unavailable below four returns', () => {
    const snap = snapshot({ weights: { a: 1 }, returns: { a: [0.01, -0.02, 0.005] } });
    const v = only(
      varLimit.measure(rule({ kind: 'var_limit', method: 'cornish_fisher', limit: 0.05 }), input(snap)),
    );
    expect(v.unavailable).toMatch(/at least 4 returns, has 3/);
  });
});

describe('var_limit / es_limit, Student-t', () => {
  const snap = snapshot({ weights: { a: 1 }, returns: { a: ladder } });
  const { std } = handMoments(ladder);

  it('uses the rule’s dof: VaR = σ·√((ν−2)/ν)·t_ν⁻¹(α)·√h, ES with the t density', () => {
    // t₅⁻¹(0.99) = 3.36493 (standard t tables); g₅(q) = Γ(3)/(√(5π)Γ(2.5))·(1 + q²/5)^−3.
    const q = 3.364929998907297;
    const scale = std * Math.sqrt(3 / 5);
    const g = (2 / (Math.sqrt(5 * Math.PI) * 1.329340388179137)) * (1 + (q * q) / 5) ** -3;
    const base = { method: 'student_t', dof: 5, horizon: 9, limit: 0.5 };
    const v = only(varLimit.measure(rule({ kind: 'var_limit', ...base }), input(snap)));
    const e = only(esLimit.measure(rule({ kind: 'es_limit', ...base }), input(snap)));
    expect(v.value! / (scale * q * 3)).toBeCloseTo(1, 9);
    expect(e.value! / (((scale * g) / 0.01) * ((5 + q * q) / 4) * 3)).toBeCloseTo(1, 9);
    expect(v.evidence).toMatchObject({ dof: 5, dof_source: 'rule' });
  });

  it('estimates ν from the excess kurtosis when the rule gives none (ν = 4 + 6/K, bounded)', () => {
    const fat = snapshot({ weights: { a: 1 }, returns: { a: skewed } });
    const v = only(
      varLimit.measure(rule({ kind: 'var_limit', method: 'student_t', limit: 0.5 }), input(fat)),
    );
    const { kurt } = handMoments(skewed);
    expect(kurt).toBeGreaterThan(0);
    expect(v.evidence.dof).toBeCloseTo(Math.min(100, Math.max(4, 4 + 6 / kurt)), 9);
    expect(String(v.evidence.dof_source)).toMatch(/^kurtosis/);
    // The uniform ladder has negative excess kurtosis: ν is bounded at the top.
    const flat = only(
      varLimit.measure(rule({ kind: 'var_limit', method: 'student_t', limit: 0.5 }), input(snap)),
    );
    expect(flat.evidence).toMatchObject({ dof: 100, dof_source: 'kurtosis_bounded' });
  });
});
